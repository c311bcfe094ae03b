"""Prometheus metrics of the daemon, in a registry of its own, updated from run reports."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from connector.pipeline import RunReport

# run durations range from a second (nothing new) to an hour (a first back-fill)
DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class DaemonMetrics:
    """Counters and gauges for /metrics; `observe` feeds them one finished run."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.events_pulled = Counter(
            "connector_events_pulled", "Product events read from the source.", registry=r
        )
        self.rollup_rows = Counter(
            "connector_rollup_rows", "Daily rollup rows written by pulls.", registry=r
        )
        self.quarantined = Counter(
            "connector_quarantined_rows",
            "Source rows set aside as invalid, by stream and reason.",
            ["reason"],
            registry=r,
        )
        self.accounts_scored = Gauge(
            "connector_accounts_scored", "Accounts in the last scoring run.", registry=r
        )
        self.health_accounts = Gauge(
            "connector_accounts_by_health",
            "Paying accounts by health rank after the last scoring run.",
            ["rank"],
            registry=r,
        )
        self.records_pushed = Counter(
            "connector_records_pushed",
            "Salesforce records written, by object and outcome (ok, failed, retry_later).",
            ["object", "outcome"],
            registry=r,
        )
        self.tasks = Counter(
            "connector_tasks", "Salesforce Task actions, by operation.", ["operation"], registry=r
        )
        self.api_calls = Counter(
            "connector_api_calls", "Salesforce API calls made by pushes.", registry=r
        )
        self.api_remaining = Gauge(
            "connector_api_allocation_remaining",
            "Salesforce daily API calls left, as of the last push.",
            registry=r,
        )
        self.api_limit = Gauge(
            "connector_api_allocation_limit", "The org's daily API call allocation.", registry=r
        )
        self.duration = Histogram(
            "connector_sync_duration_seconds",
            "How long runs take, by stage.",
            ["stage"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "connector_errors", "Errors, by kind (error class).", ["kind"], registry=r
        )
        self.runs = Counter(
            "connector_runs",
            "Finished runs, by stage and status (ok, failed, stopped, skipped, standby).",
            ["stage", "status"],
            registry=r,
        )
        self.last_success = Gauge(
            "connector_last_success_timestamp_seconds",
            "Unix time of the last successful run, by stage.",
            ["stage"],
            registry=r,
        )
        self.leader = Gauge(
            "connector_leader",
            "1 while this daemon holds the store lease and does the work, else 0.",
            registry=r,
        )
        self.alerts = Counter(
            "connector_alert_deliveries",
            "Alert and digest deliveries, by channel and outcome (sent, failed, retrying).",
            ["channel", "outcome"],
            registry=r,
        )
        self.missed = Counter(
            "connector_jobs_missed",
            "Job runs skipped because they fell due too late or one was still running.",
            ["job"],
            registry=r,
        )

    def observe(self, report: RunReport) -> None:
        """Count one finished run."""
        self.runs.labels(report.stage, report.status).inc()
        if report.status == "skipped":
            return
        self.duration.labels(report.stage).observe(max(report.elapsed_seconds, 0.0))
        if report.status == "ok" and report.finished_at is not None:
            self.last_success.labels(report.stage).set(report.finished_at.timestamp())
        if report.pull is not None:
            self.events_pulled.inc(report.pull.events_read)
            self.rollup_rows.inc(report.pull.rollup_rows)
            for reason, n in report.pull.quarantined.items():
                self.quarantined.labels(reason).inc(n)
        if report.score is not None:
            self.accounts_scored.set(report.score.accounts)
            health = report.score.health
            for rank in ("good", "average", "poor"):
                self.health_accounts.labels(rank).set(getattr(health, rank))
        if report.push is not None:
            push = report.push
            for outcome, counts in (
                ("ok", push.ok),
                ("failed", push.failed),
                ("retry_later", push.retry_later),
            ):
                for sobject, n in counts.items():
                    self.records_pushed.labels(sobject, outcome).inc(n)
            for operation, n in push.tasks.items():
                self.tasks.labels(operation).inc(n)
            for failure in push.failures:
                self.errors.labels(f"salesforce:{failure.code or 'unknown'}").inc()
        if report.api_calls:
            self.api_calls.inc(report.api_calls)
        if report.api_usage:
            limit = report.api_usage.get("limit", 0)
            self.api_limit.set(limit)
            self.api_remaining.set(max(limit - report.api_usage.get("used", 0), 0))

    def observe_alerts(self, sent: Any) -> None:
        """Count one alert or digest pass's deliveries (a SendReport)."""
        for outcome in ("sent", "failed", "retrying"):
            for channel, n in getattr(sent, outcome).items():
                self.alerts.labels(channel, outcome).inc(n)

    def observe_failure(self, stage: str, error: BaseException, seconds: float) -> None:
        """Count a run that raised instead of returning a report."""
        self.runs.labels(stage, "failed").inc()
        self.errors.labels(type(error).__name__).inc()
        self.duration.labels(stage).observe(max(seconds, 0.0))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

"""The /healthz decision: healthy while the last successful sync is young enough."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connector.daemon.health import HealthInputs, decide

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _inputs(**changes: object) -> HealthInputs:
    base: dict[str, object] = {
        "now": T0,
        "started_at": T0 - timedelta(minutes=5),
        "last_success": T0 - timedelta(minutes=10),
        "proving_stages": ("push",),
        "max_age_minutes": 90,
        "grace_minutes": 30,
        "role": "leader",
        "lease_holder": "host:1",
    }
    base.update(changes)
    return HealthInputs(**base)  # type: ignore[arg-type]


def test_recent_sync_is_healthy_and_reports_age_and_holder() -> None:
    code, body = decide(_inputs())
    assert code == 200
    assert body["status"] == "ok"
    assert body["last_sync_age_seconds"] == 600
    assert body["lease_holder"] == "host:1"
    assert body["last_successful_sync"] == (T0 - timedelta(minutes=10)).isoformat()


def test_stale_sync_is_unhealthy() -> None:
    code, body = decide(_inputs(last_success=T0 - timedelta(minutes=91)))
    assert code == 503
    assert "91 minutes old" in body["reason"]


def test_no_sync_yet_is_fine_during_start_up_grace_only() -> None:
    code, body = decide(_inputs(last_success=None))
    assert (code, body["status"]) == (200, "starting")
    code, body = decide(_inputs(last_success=None, started_at=T0 - timedelta(minutes=31)))
    assert code == 503
    assert "no successful sync" in body["reason"]


def test_unreadable_store_is_unhealthy() -> None:
    code, body = decide(_inputs(store_error="the store cannot be read: locked"))
    assert code == 503
    assert body["reason"] == "the store cannot be read: locked"

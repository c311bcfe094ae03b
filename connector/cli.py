"""The `connector` command: parse arguments, call the library, one error boundary.

Exit codes: 0 success, 2 bad input or configuration, 1 any other failure.
"""

from __future__ import annotations

import inspect
import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console

from connector.config import Settings, load_settings
from connector.errors import ConnectorError, InputError

app = typer.Typer(
    name="connector",
    help="Sync product-usage intelligence (engagement, health, lifecycle, tags, milestones) "
    "into Salesforce.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the connector's own store.", no_args_is_help=True)
app.add_typer(db_app, name="db")

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Configuration YAML (default: embedded defaults).",
        exists=False,
        dir_okay=False,
    ),
]


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="TCP port (0 picks a free one).", min=0, max=65535)
    ] = 8787,
    data: Annotated[
        Path,
        typer.Option(
            help="SQLite file the org persists to; its TLS certificates are kept beside it."
        ),
    ] = Path(".sandbox/org.db"),
    seed: Annotated[
        int | None,
        typer.Option(help="Seed for ids, faults and generated credentials, for reproducible runs."),
    ] = None,
    fls: Annotated[
        bool,
        typer.Option(
            "--fls/--no-fls",
            help="New custom fields stay hidden until a permission set grants them.",
        ),
    ] = False,
    faults: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="A fault switch NAME=VALUE, e.g. error_503_rate=0.1, "
            "lock_rate=0.05, latency_ms=50, session_expire_calls=50, daily_limit=15000, "
            "apex_cpu_batch=100. Repeatable.",
        ),
    ] = None,
    session_timeout: Annotated[
        int | None,
        typer.Option(
            help="Seconds of inactivity after which a session expires "
            "(default: SANDBOX_SESSION_TIMEOUT, else 7200).",
        ),
    ] = None,
) -> None:
    """Serve the local Salesforce API emulator over HTTPS."""
    from connector.sandbox.server import serve

    serve(
        host=host,
        port=port,
        data=data,
        seed=seed,
        fls=fls,
        faults=faults or [],
        session_seconds=session_timeout,
    )


def _parse_as_of(text: str | None) -> datetime | None:
    """An ISO 8601 timestamp; one without an offset is taken as UTC."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--as-of {text!r} is not a timestamp. Fix: use ISO 8601, e.g. 2026-03-01T12:00:00Z."
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _database_url(out: str) -> str:
    """A database URL as given, or a plain file path as an SQLite URL."""
    return out if "://" in out else f"sqlite:///{Path(out).expanduser()}"


@app.command("demo-data")
def demo_data(
    out: Annotated[
        str,
        typer.Option(
            "--out",
            help="Database to write: an SQLAlchemy URL (sqlite:///demo.db, "
            "postgresql+psycopg://…, mysql+pymysql://…) or an SQLite file path. Its accounts, "
            "users and events tables are dropped and recreated if an earlier demo-data run "
            "wrote them (see --replace).",
        ),
    ],
    accounts: Annotated[int, typer.Option(help="Number of customer accounts.")] = 200,
    days: Annotated[
        int, typer.Option(help="Days of usage history, the last one ending at as-of.")
    ] = 90,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed and as-of give the same rows.")
    ] = 7,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="End of the last day, ISO 8601 (default: now, to the hour)."),
    ] = None,
    events_target: Annotated[
        int | None,
        typer.Option(help="Stretch activity so the database holds about this many events."),
    ] = None,
    dirty_rows: Annotated[
        bool,
        typer.Option(
            "--dirty-rows/--no-dirty-rows",
            help="Add a few broken events (no user, unknown account, negative duration, "
            "far-future time, duplicated id), as real product databases have.",
        ),
    ] = True,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Drop accounts, users and events tables at --out even if demo-data did not "
            "write them (without it, such tables stop the command and are left alone).",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Write a realistic demo product database (accounts, users, events) to try the connector on."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from connector import logs
    from connector.config import load_settings
    from connector.demo import DemoSpec, resolve_as_of, write_demo_db

    settings = load_settings(config)
    logs.configure(settings.logging.level, settings.logging.format)
    logs.add_secrets(settings.secrets())
    spec = DemoSpec(
        accounts=accounts,
        days=days,
        seed=seed,
        as_of=resolve_as_of(_parse_as_of(as_of)),
        dirty_rows=dirty_rows,
        events_target=events_target,
    )
    with Progress(
        TextColumn("writing days"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("days", total=spec.days)
        summary = write_demo_db(
            _database_url(out),
            spec,
            progress=lambda done, _: bar.update(task, completed=done),
            replace=replace,
        )
    table = Table(title=f"Demo product database: {summary.url}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for status, count in summary.accounts_by_status.items():
        table.add_row(f"{status} accounts", f"{count:,}")
    table.add_row("users", f"{summary.users:,}")
    table.add_row("events", f"{summary.events:,}")
    for kind, count in summary.dirty_rows.items():
        table.add_row(f"dirty: {kind.replace('_', ' ')}", f"{count:,}")
    table.add_row("as of", spec.as_of.isoformat() if spec.as_of else "")
    table.add_row("seconds", f"{summary.elapsed_seconds:.1f}")
    console.print(table)


def _settings(config: Path | None) -> Settings:
    """Load the configuration and set up logging (secrets redacted from every line)."""
    from connector.logs import add_secrets, configure

    settings = load_settings(config)
    configure(settings.logging.level, settings.logging.format, stream=sys.stderr)
    add_secrets(settings.secrets())
    return settings


def _store_engine(config: Path | None) -> tuple[Settings, sa.Engine]:
    """Load the configuration, set up logging, and open the store it names as it is (the
    `db` commands and `status` work on stores at any revision)."""
    from connector.store.engine import make_store_engine

    settings = _settings(config)
    return settings, make_store_engine(settings.store.url)


@db_app.command("upgrade")
def db_upgrade(
    config: ConfigOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the store's tables to this version's schema."""
    from connector.store.migrate import upgrade

    _, engine = _store_engine(config)
    console.print(f"store is at revision {upgrade(engine, revision)}")


@db_app.command("downgrade")
def db_downgrade(
    config: ConfigOption = None,
    revision: Annotated[
        str, typer.Option(help="Target revision (-1: one step back, base: drop everything).")
    ] = "-1",
) -> None:
    """Migrate the store back to an older schema (base drops every table)."""
    from connector.store.migrate import downgrade

    _, engine = _store_engine(config)
    console.print(f"store is at revision {downgrade(engine, revision) or 'base (empty)'}")


@db_app.command("current")
def db_current(config: ConfigOption = None) -> None:
    """Show the store's schema revision and the one this version needs."""
    from connector.store.migrate import current_revision, head_revision

    _, engine = _store_engine(config)
    at, head = current_revision(engine), head_revision()
    note = "up to date" if at == head else "run `connector db upgrade`"
    console.print(f"store revision {at or 'none'}, shipped head {head} ({note})")


@app.command()
def status(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    runs: Annotated[int, typer.Option(help="How many recent runs to list.")] = 10,
) -> None:
    """Last runs, watermarks, what the store holds, and quarantined source rows."""
    from connector.store.status import store_status
    from connector.store.status_view import print_status

    _, engine = _store_engine(config)
    result = store_status(engine, runs=runs)
    if as_json:
        console.print_json(json.dumps(result.as_dict()))
    else:
        print_status(result, console)


class QuarantineStream(StrEnum):
    """What a pull sets rows aside from."""

    events = "events"
    accounts = "accounts"
    users = "users"


@app.command()
def quarantine(
    config: ConfigOption = None,
    reason: Annotated[
        str | None,
        typer.Option(help="Only rows set aside for this reason (`connector status` lists them)."),
    ] = None,
    stream: Annotated[
        QuarantineStream | None, typer.Option(help="Only rows of this stream.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many rows to show.", min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Source rows the pull set aside, newest first, with what fixes each kind at the source."""
    from connector.pipeline import open_store
    from connector.store import bookkeeping
    from connector.store.quarantine_view import entry_dict, render_quarantine

    settings = _settings(config)
    engine = open_store(settings)
    only = stream.value if stream is not None else None
    rows = bookkeeping.quarantined_rows(engine, reason=reason, stream=only, limit=limit)
    kept = bookkeeping.quarantine_counts(engine)
    if as_json:
        payload = {"kept": kept, "rows": [entry_dict(r) for r in rows]}
        console.print_json(json.dumps(payload))
    else:
        console.print(render_quarantine(rows, kept))


@app.command()
def pull(
    config: ConfigOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Ignore the watermarks: rebuild every rollup.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Pull once from the product database into the store (accounts, users, rollups)."""
    from connector.pipeline import open_store
    from connector.source.pull import pull as run_pull
    from connector.source.pull_view import pull_progress, render_summary

    settings = _settings(config)
    engine = open_store(settings)
    if as_json:
        report = run_pull(settings, engine, full=full)
        console.print_json(json.dumps(report.as_dict()))
        return
    with pull_progress(err_console) as progress:
        report = run_pull(settings, engine, full=full, progress=progress)
    console.print(render_summary(report))


@app.command()
def check(
    config: ConfigOption = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Only the files; contact neither Salesforce nor the product database."
        ),
    ] = False,
) -> None:
    """Validate configuration, mappings and rules, then the product database and the mapping
    against the org."""
    from connector.errors import ConfigError
    from connector.logs import add_secrets, configure
    from connector.mapping.check import load_settings_for_check, run_check
    from connector.mapping.report import print_problems
    from connector.salesforce.client import SalesforceClient

    settings, problems = load_settings_for_check(config)
    if settings is None:
        print_problems(err_console, problems)
        raise typer.Exit(ConfigError.exit_code)
    configure(settings.logging.level, settings.logging.format, stream=sys.stderr)
    add_secrets(settings.secrets())
    if offline:
        result = run_check(settings, None)
    else:
        with SalesforceClient(settings) as client:
            result = run_check(settings, client, source=True)
    if not result.ok:
        print_problems(err_console, result.problems)
        raise typer.Exit(ConfigError.exit_code)
    console.print(f"[green]OK:[/] {result.summary()}.")


@app.command()
def provision(
    config: ConfigOption = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Make the changes (default: only list them).")
    ] = False,
) -> None:
    """List (and with --apply create) the custom fields, picklist values and field access
    the mappings need."""
    from connector.mapping.provision import provision as run_provision
    from connector.mapping.report import print_result
    from connector.salesforce.client import SalesforceClient

    settings = _settings(config)
    with SalesforceClient(settings) as client:
        result = run_provision(settings, client, apply=apply)
    print_result(console, result)
    if result.plan.problems:
        raise typer.Exit(2)


@app.command()
def demo(
    folder: Annotated[Path, typer.Option("--dir", help="Where the demo's files go (replaced "
                                         "if it holds an earlier demo).")] = Path(
        "connector-demo"),
    source: Annotated[str | None, typer.Option(
        help="Your own product database (any SQLAlchemy URL) instead of generated data: a "
        "zero-risk preview of what would land in your org.")] = None,
    preset: Annotated[str, typer.Option(help="Source layout: generic or segment.")] = "generic",
    as_of: Annotated[str | None, typer.Option("--as-of", help="Evaluate as of this time "
                                              "(ISO 8601; default now).")] = None,
    accounts: Annotated[int, typer.Option(help="Accounts in the generated database.")] = 200,
) -> None:
    """The whole thing on embedded defaults: a demo product database, the local sandbox org,
    provisioning, a full sync, and a summary of what landed in Salesforce."""
    from connector.demo.tour import run_demo
    from connector.demo.view import render
    from connector.logs import configure

    if preset not in ("generic", "segment"):
        raise InputError(f"--preset {preset!r} is not a source layout. Fix: use generic or "
                         "segment.")
    configure("warning", "console", stream=sys.stderr)
    with err_console.status("Starting…") as status:
        result = run_demo(folder.resolve(), source=source, preset=preset,
                          as_of=_parse_as_of(as_of), accounts=accounts,
                          step=lambda text: status.update(text + "…"))
    console.print(render(result))


AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Evaluate as of this time (ISO 8601; default now), to "
                 "reproduce results or back-fill history."),
]


@app.command()
def plan(
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole plan as JSON.")] = False,
) -> None:
    """Dry run: score, then show per object which fields would change (before → after), the
    Tasks to open or close, what is skipped and why, and the API calls it would cost.
    Makes only read calls to Salesforce."""
    from connector import clock
    from connector.pipeline import open_store
    from connector.plan import explain
    from connector.push.run import make_plan
    from connector.salesforce.client import SalesforceClient
    from connector.scoring import run_scoring

    settings = _settings(config)
    engine = open_store(settings)
    when = _parse_as_of(as_of) or clock.now()
    run_scoring(engine, settings, when)
    with SalesforceClient(settings) as client:
        the_plan = make_plan(settings, engine, client, when)
    if as_json:
        console.print_json(json.dumps(explain.as_dict(the_plan), default=str))
    else:
        console.print(explain.render(the_plan))


@app.command()
def sync(
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Push even a plan that blanks many fields Salesforce holds.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Pull, score and push once, with progress, ending with a one-screen summary."""
    from connector.pipeline import run as run_pipeline
    from connector.run_view import run_progress, summary

    settings = _settings(config)
    with run_progress(err_console) as progress:
        report = run_pipeline(settings, "sync", as_of=_parse_as_of(as_of), progress=progress,
                              force=force)
    if as_json:
        console.print_json(json.dumps(report.as_dict(), default=str))
    else:
        console.print(summary(report))
    if report.status not in ("ok", "skipped"):
        raise typer.Exit(1)


@app.command()
def verify(
    config: ConfigOption = None,
    repair: Annotated[bool, typer.Option(
        "--repair", help="Write the pushed values back over the drifted fields; look records "
        "deleted in Salesforce up again and re-send them.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Read back what Salesforce holds for every record pushed and report fields that differ
    (lost writes, manual edits, triggers) and records no longer there; exits 1 while drift
    remains or a missing record is not matched again."""
    from connector.logs import new_run_id
    from connector.pipeline import open_store
    from connector.push.verify import verify as run_verify
    from connector.push.verify_view import render
    from connector.salesforce.client import SalesforceClient

    settings = _settings(config)
    engine = open_store(settings)
    with SalesforceClient(settings) as client:
        report = run_verify(settings, engine, client, repair=repair, run_id=new_run_id())
    if as_json:
        console.print_json(json.dumps(report.as_dict(), default=str))
    else:
        console.print(render(report))
    if not report.settled:  # drift left unrepaired, or records missing and not matched again
        raise typer.Exit(1)


@app.command()
def report(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Also write a self-contained HTML page with charts to this file.",
            dir_okay=False,
        ),
    ] = None,
    days: Annotated[int, typer.Option(help="Days of health score trend.", min=1)] = 90,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Score as of this time first (ISO 8601; default now).")] = None,
    score: Annotated[bool, typer.Option(
        "--score/--no-score", help="Score with the current rules first (default), or report "
        "the last scoring run as it is.")] = True,
) -> None:
    """Customer health: distribution and score, daily trend, by CSM and company size, and
    engaged evaluations by month. Scores first, so a changed rule shows at once."""
    from connector import clock
    from connector.pipeline import open_store
    from connector.report import build_report, render_html, render_report
    from connector.scoring import run_scoring

    settings = _settings(config)
    engine = open_store(settings)
    if score:
        run_scoring(engine, settings, _parse_as_of(as_of) or clock.now())
    result = build_report(engine, settings.zone, days=days)
    if html is not None:
        try:
            html.write_text(render_html(result), encoding="utf-8")
        except OSError as exc:
            raise InputError(
                f"--html {html} cannot be written ({exc.strerror}). Fix: choose a path in an "
                "existing, writable folder."
            ) from None
    if as_json:
        console.print_json(json.dumps(result.as_dict()))
    else:
        console.print(render_report(result))
        if html is not None:
            console.print(f"HTML report written to {html}")


@app.command("run")
def run_command(config: ConfigOption = None) -> None:
    """The daemon: run pull, score, push and snapshot on their schedules, serve /healthz and
    /metrics, and share the store safely with other daemons. Stops cleanly on SIGTERM/Ctrl-C."""
    from connector.daemon import run_daemon

    settings = _settings(config)
    run_daemon(settings, config, console)


@app.command()
def account(
    account_id: Annotated[str, typer.Argument(help="The product's account id.")],
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One account's profile: KPIs, usage today, yesterday, 3/7/14/30 days, users, health and
    its reason, milestones, tags and sync state."""
    from connector import clock
    from connector.pipeline import open_store
    from connector.profile import account_profile
    from connector.profile_view import render

    settings = _settings(config)
    engine = open_store(settings)
    profile = account_profile(engine, settings, account_id, _parse_as_of(as_of) or clock.now())
    if as_json:
        console.print_json(json.dumps(profile.as_dict(), default=str))
    else:
        console.print(render(profile))



# --- follows, alerts and digests ---------------------------------------------------------------

alerts_app = typer.Typer(help="Real-time alerts and daily digests.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
FollowTarget = Annotated[
    str,
    typer.Argument(
        help="A product account id, a segment of alerts.yaml (e.g. at-risk), or csm:EMAIL for "
        "a CSM's book."
    ),
]


def _alerts_store(config: Path | None) -> tuple[Settings, sa.Engine]:
    from connector.pipeline import open_store

    settings = _settings(config)
    return settings, open_store(settings)


@app.command()
def follow(
    email: Annotated[str, typer.Argument(help="The team member's email.")],
    target: FollowTarget,
    config: ConfigOption = None,
) -> None:
    """Follow an account, a segment or a CSM's book: its alerts and digest come to EMAIL."""
    from connector.alerts.dispatch import load_rules_for
    from connector.alerts.follows import follow as add_follow
    from connector.alerts.snapshot import load_views

    settings, engine = _alerts_store(config)
    followed = add_follow(engine, load_rules_for(settings, load_views(engine)), email, target)
    console.print(f"{email.lower()} now follows {followed}.")


@app.command()
def unfollow(
    email: Annotated[str, typer.Argument(help="The team member's email.")],
    target: FollowTarget,
    config: ConfigOption = None,
) -> None:
    """Stop following; what alerts.yaml or the CSM default brings is muted instead."""
    from connector.alerts.dispatch import load_rules_for
    from connector.alerts.follows import unfollow as drop_follow
    from connector.alerts.snapshot import load_views

    settings, engine = _alerts_store(config)
    rules = load_rules_for(settings, load_views(engine))
    dropped, how = drop_follow(engine, rules, email, target)
    console.print(f"{email.lower()} no longer follows {dropped} ({how}).")


@alerts_app.command("run")
def alerts_run(config: ConfigOption = None, as_of: AsOfOption = None) -> None:
    """One alert pass now: what changed since the last pass goes out on its channels."""
    from connector.alerts.dispatch import run_alerts

    settings, engine = _alerts_store(config)
    report = run_alerts(settings, engine, as_of=_parse_as_of(as_of))
    if report.baseline:
        console.print("First pass: recorded a baseline of every account; no alerts.")
    console.print_json(json.dumps(report.as_dict()))
    if report.failed:
        raise typer.Exit(1)


@alerts_app.command("digest")
def alerts_digest(config: ConfigOption = None, as_of: AsOfOption = None) -> None:
    """Send each follower the digest of what changed in their accounts since the last one."""
    from connector.alerts.dispatch import run_digests

    settings, engine = _alerts_store(config)
    report = run_digests(settings, engine, as_of=_parse_as_of(as_of))
    console.print_json(json.dumps(report.as_dict()))
    if report.failed:
        raise typer.Exit(1)


@alerts_app.command("follows")
def alerts_follows(config: ConfigOption = None) -> None:
    """Who follows what (CSM books, alerts.yaml, `connector follow`), mutes, and how many
    accounts each person follows now."""
    from rich.table import Table

    from connector import clock
    from connector.alerts.dispatch import load_rules_for
    from connector.alerts.follows import segment_members, summarize
    from connector.alerts.frame import StoredFrame
    from connector.alerts.snapshot import load_views
    from connector.store import alertlog

    settings, engine = _alerts_store(config)
    views = load_views(engine)
    rules = load_rules_for(settings, views)
    frame = StoredFrame(views, clock.now().astimezone(settings.zone).date(), settings.zone)
    people = summarize(views, rules, alertlog.load_follows(engine), segment_members(frame, rules))
    table = Table(title="Follows", title_justify="left")
    for col in ("who", "follows", "muted", "accounts"):
        table.add_column(col, justify="right" if col == "accounts" else "left")
    for p in people:
        table.add_row(p.email, "\n".join(p.follows), "\n".join(p.muted), f"{p.accounts:,}")
    console.print(table if people else "Nobody follows anything yet: try `connector follow`.")


@alerts_app.command("preview")
def alerts_preview(
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Which alerts and digests would go out now, and to whom, without sending anything."""
    from connector import clock
    from connector.alerts.preview import preview, render_preview

    settings, engine = _alerts_store(config)
    result = preview(settings, engine, _parse_as_of(as_of) or clock.now())
    if as_json:
        console.print_json(json.dumps(result.as_dict(), default=str))
    else:
        console.print(render_preview(result))


def _summaries_on_one_line(*groups: typer.Typer) -> None:
    """A command list shows each command's first docstring paragraph, and rich help keeps the
    line breaks the docstring is wrapped with, scattering a summary over several rows."""
    for group in groups:
        for info in group.registered_commands:
            if info.short_help is None and info.callback is not None:
                first = (inspect.getdoc(info.callback) or "").split("\n\n")[0]
                info.short_help = " ".join(first.split())


_summaries_on_one_line(app, db_app, alerts_app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and turn errors into exit codes and readable messages.

    Typer runs in standalone mode, so usage errors (an unknown command or option, a bad or
    missing value) are printed by the library that raised them, whichever copy of click it
    uses, and end with its exit code: 2 for bad usage, 130 for Ctrl-C."""
    import structlog

    if not structlog.is_configured():
        # Until a command has read its configuration, warnings only, on standard error:
        # structlog's own default prints every level to standard output.
        from connector.logs import configure

        configure("warning", stream=sys.stderr)
    try:
        app(args=argv, prog_name="connector")
    except SystemExit as exc:
        return _exit_code(exc.code)
    except ConnectorError as exc:
        from rich.text import Text

        from connector.logs import redact

        err_console.print(Text.assemble(("error: ", "bold red"), redact(str(exc))))
        return exc.exit_code
    except OSError as exc:
        if not exc.filename:
            raise
        # A path given on the command line or in the configuration that cannot be used.
        from connector.logs import redact

        names = " → ".join(str(f) for f in (exc.filename, exc.filename2) if f)
        reason = exc.strerror or type(exc).__name__
        err_console.print(f"[bold red]error:[/] {redact(f'{reason}: {names}')}", highlight=False)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _exit_code(code: object) -> int:
    """`SystemExit.code` as a process exit code: None is success, a message is failure."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    err_console.print(str(code))
    return 1


if __name__ == "__main__":
    sys.exit(main())

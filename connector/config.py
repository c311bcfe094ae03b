"""Typed settings from one YAML file, `${ENV}` substitution and `CONNECTOR__SECTION__KEY` overrides.

Every problem is reported at once, each with the file, line and key, and the fix. Unknown keys
are errors (a typo must not silently fall back to a default). Secrets are `SecretStr`, so they
never print.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)

from connector.errors import ConfigError, Problem
from connector.yamlfile import Location, YamlDocument, load_yaml

ENV_PREFIX = "CONNECTOR__"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _database_url(v: str | None) -> str | None:
    """An SQLAlchemy URL, checked for shape only (the value is not echoed: it may hold a
    password)."""
    if v is None:
        return v
    from sqlalchemy.engine import make_url  # local: keep config import-light

    try:
        make_url(v)
    except Exception:
        raise ValueError(
            "this is not a database URL; write an SQLAlchemy URL such as "
            "postgresql+psycopg://user@host/db, mysql+pymysql://user@host/db or "
            "sqlite:///connector.db"
        ) from None
    return v


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, populate_by_name=True)


#: How a time column kept as a Unix epoch number counts (see `connector.source.epoch`).
EpochUnit = Literal["seconds", "milliseconds"]


class SourceTable(_Section):
    """Where one generic-schema table comes from: a table name, column renames, or a SELECT;
    and which of its time columns hold Unix epoch numbers rather than timestamps."""

    table: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    select: str | None = None
    epoch: dict[str, EpochUnit] = Field(default_factory=dict)


class SegmentSettings(_Section):
    """Names in a Segment / RudderStack warehouse; traits that carry account attributes."""

    tracks: str = "tracks"
    identifies: str = "identifies"
    groups: str = "groups"
    account_name_trait: str = "name"
    status_trait: str = "status"
    licenses_trait: str = "licenses"
    module_column: str | None = None  # a tracks column naming the product module, if any


class SourceSettings(_Section):
    """The vendor's product database."""

    url: str | None = None
    preset: Literal["generic", "segment"] = "generic"

    @field_validator("url")
    @classmethod
    def _url_shape(cls, v: str | None) -> str | None:
        return _database_url(v)

    db_schema: str | None = Field(default=None, alias="schema")
    late_window_days: int = Field(default=2, ge=0, le=90)
    late_window_reread: Literal["changed", "all"] = "changed"
    pushdown: Literal["auto", "always", "never"] = "auto"
    chunk_size: int = Field(default=50_000, ge=100)
    # Connections a pushed-down read may use at once (None: decided per engine).
    parallel_reads: int | None = Field(default=None, ge=1, le=16)
    max_future_minutes: int = Field(default=60, ge=0)
    tables: dict[Literal["accounts", "users", "events"], SourceTable] = Field(default_factory=dict)
    segment: SegmentSettings = Field(default_factory=SegmentSettings)


class StoreSettings(_Section):
    """The connector's own database."""

    url: str = "sqlite:///connector.db"

    @field_validator("url")
    @classmethod
    def _url_shape(cls, v: str | None) -> str | None:
        return _database_url(v)


class SalesforceSettings(_Section):
    """How to reach and authenticate to the org, and how frugally to push."""

    login_url: str = "https://login.salesforce.com"
    auth: Literal["jwt", "client_credentials", "password"] = "jwt"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    private_key_file: Path | None = None
    ca_bundle: Path | None = None
    api_version: str = "62.0"
    timeout_seconds: float = Field(default=60.0, gt=0)
    api_reserve_percent: float = Field(default=10.0, ge=0, le=100)
    bulk_threshold: int = Field(default=2_000, ge=1)
    batch_size: int = Field(default=200, ge=1, le=200)
    serial: bool = False
    converted_leads: Literal["skip", "follow"] = "skip"
    create_leads: bool = False
    tags_mode: Literal["merge", "replace"] = "merge"
    on_task_cleared: Literal["close", "annotate"] = "close"
    max_retries: int = Field(default=5, ge=0, le=20)

    @field_validator("login_url")
    @classmethod
    def _login_url_shape(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(
                f"{v!r} is not a login URL; write https://login.salesforce.com, "
                "https://test.salesforce.com, your My Domain (https://acme.my.salesforce.com) "
                "or the sandbox's https://127.0.0.1:PORT"
            )
        return v

    @field_validator("api_version")
    @classmethod
    def _version_shape(cls, v: str) -> str:
        v = v.removeprefix("v")
        if not re.fullmatch(r"\d{2,3}\.0", v):
            raise ValueError(f'{v!r} is not an API version like "62.0"')
        return v


class JobSchedule(_Section):
    """When one job runs: every N minutes, or on a cron expression."""

    every_minutes: float | None = Field(default=None, gt=0)
    cron: str | None = None

    @field_validator("cron")
    @classmethod
    def _cron_shape(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from apscheduler.triggers.cron import CronTrigger  # local: keep config import-light

        try:
            CronTrigger.from_crontab(v)
        except ValueError as exc:
            raise ValueError(
                f"{v!r} is not a cron expression ({exc}); write five fields, minute hour "
                "day month weekday, e.g. '*/15 * * * *' or '5 0 * * *'"
            ) from None
        return v

    enabled: bool = True


class ServerSettings(_Section):
    """The daemon's /healthz and /metrics endpoint."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535)
    max_sync_age_minutes: float = Field(default=90, gt=0)
    # after start-up, how long /healthz stays 200 before a first successful sync is required
    startup_grace_minutes: float = Field(default=30, ge=0)


class DaemonSettings(_Section):
    """How `connector run` schedules jobs and shares the store with other daemons."""

    jobs: Path | None = None  # a job definitions file or folder; the shipped jobs/ when absent
    # the store lease that makes one daemon work while others wait; renewed every third of it
    lease_seconds: float = Field(default=120, ge=1)
    # a job that falls due while the daemon was busy or asleep still runs this late
    misfire_grace_minutes: float = Field(default=30, gt=0)


class LoggingSettings(_Section):
    """Log level and format (`auto`: readable on a terminal, JSON lines otherwise)."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class SmtpSettings(_Section):
    """The mail server alerts and digests are sent through (STARTTLS and login by default)."""

    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str | None = None
    ca_bundle: Path | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)


class AlertsSettings(_Section):
    """Real-time alerts (Chatter, email, webhooks) and daily digests for the success team."""

    enabled: bool = True
    chatter: bool = True
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    webhooks: dict[str, SecretStr] = Field(default_factory=dict)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    record_url: str | None = None
    max_attempts: int = Field(default=5, ge=1, le=50)
    digest_items: int = Field(default=10, ge=1, le=100)


class Settings(_Section):
    """The whole configuration file."""

    timezone: str = "UTC"
    source: SourceSettings = Field(default_factory=SourceSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    salesforce: SalesforceSettings = Field(default_factory=SalesforceSettings)
    mappings: Path | None = None
    schedule: dict[str, JobSchedule] = Field(default_factory=dict)
    server: ServerSettings = Field(default_factory=ServerSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)

    _unset_env: dict[str, str] = PrivateAttr(default_factory=dict)
    _doc: YamlDocument | None = PrivateAttr(default=None)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'{v!r} is not an IANA time zone such as "Europe/Berlin"') from None
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def secrets(self) -> list[str]:
        """Every secret value configured, so log redaction can mask them."""
        sf = self.salesforce
        values = [
            s.get_secret_value()
            for s in (sf.client_secret, sf.password, sf.security_token)
            if s is not None
        ]
        values += _url_passwords(self.source.url, self.store.url)
        alerts = self.alerts
        if alerts.smtp.password is not None:
            values.append(alerts.smtp.password.get_secret_value())
        values += [url.get_secret_value() for url in alerts.webhooks.values()]
        return [v for v in values if v and len(v) >= 4]


def _url_passwords(*urls: str | None) -> list[str]:
    from sqlalchemy.engine import make_url  # local: keep config import-light

    found = []
    for url in urls:
        if not url:
            continue
        try:
            pw = make_url(url).password
        except Exception:
            continue
        if pw:
            found.append(str(pw))
    return found


def _substitute_env(
    value: Any, env: Mapping[str, str], loc: Location, missing: list[tuple[Location, str]]
) -> Any:
    """Replace `${VAR}` / `${VAR:-default}` in strings; unset variables become None."""
    if isinstance(value, dict):
        return {k: _substitute_env(v, env, (*loc, k), missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_env(v, env, (*loc, i), missing) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    unresolved: list[str] = []

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        unresolved.append(name)
        return ""

    result = _ENV_REF.sub(repl, value)
    if unresolved:
        missing.extend((loc, name) for name in unresolved)
        return None if result == "" else result
    return result


def _apply_env_overrides(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """Apply CONNECTOR__SECTION__KEY=value (value parsed as YAML, so numbers, booleans and
    lists can be given); return each key applied (dotted) with its text as given."""
    applied = {}
    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if not parts:
            continue
        node = data
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        try:
            node[parts[-1]] = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            node[parts[-1]] = raw
        applied[".".join(parts)] = raw
    return applied


def _set_at(data: Any, loc: Location, value: Any) -> None:
    for part in loc[:-1]:
        data = data[part]
    data[loc[-1]] = value


def _validate(data: dict[str, Any], overridden: Mapping[str, str]) -> Settings:
    """Settings from `data`; an override read as a number or boolean where text is expected
    (`CONNECTOR__SALESFORCE__API_VERSION=58.0`, a numeric password) is taken as its text."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        as_text = [
            tuple(e["loc"])
            for e in exc.errors()
            if e["type"] == "string_type" and ".".join(map(str, e["loc"])) in overridden
        ]
        if not as_text:
            raise
        for loc in as_text:
            _set_at(data, loc, overridden[".".join(map(str, loc))])
        return Settings.model_validate(data)


def _override_for(dotted: str, overridden: Mapping[str, str]) -> str | None:
    """The override behind the value at `dotted`: that key, a key inside it, or the one it
    lies inside (`CONNECTOR__SOURC__URL` makes the unknown section `sourc`)."""
    for key in overridden:
        if key == dotted or key.startswith(dotted + ".") or dotted.startswith(key + "."):
            return key
    return None


def _fix_for(error: Mapping[str, Any], model_fields: list[str]) -> tuple[str, str]:
    kind = error["type"]
    loc = error["loc"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, model_fields, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return (
            f"unknown key {key!r}.",
            f"{hint}Remove it or rename it to a documented key (see config.example.yaml).",
        )
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return (f"{error['input']!r} is not allowed here.", f"use one of {expected}.")
    msg = str(error["msg"]).removeprefix("Value error, ")
    return (
        msg[0].lower() + msg[1:] + ("" if msg.endswith(".") else "."),
        "correct the value (see config.example.yaml for the expected form).",
    )


def _sibling_names(model: type[BaseModel], loc: Location) -> list[str]:
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            return []
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        current = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    fields = getattr(current, "model_fields", {}) if current else {}
    names = list(fields)
    names += [f.alias for f in fields.values() if f.alias]
    return names


def _partly_unset(
    data: Any,
    missing: list[tuple[Location, str]],
    overridden: list[str],
    where: Callable[[Location], str],
) -> list[Problem]:
    """Values that name an unset variable inside other text (`postgres:${PW}@db`): left as
    they read without it, they would carry an empty password or path part silently. A value
    that is the variable alone becomes null and is judged like a missing value."""
    problems = []
    for loc, var in missing:
        value: Any = data
        for part in loc:
            value = value[part] if isinstance(value, dict | list) else None
        if value is None or ".".join(map(str, loc)) in overridden:
            continue
        problems.append(
            Problem(
                where(loc),
                f"{'.'.join(map(str, loc))} refers to ${{{var}}}, which is not set.",
                f"export {var}=… in the connector's environment, or write ${{{var}:-}} "
                "where an empty value is meant.",
            )
        )
    return problems


def settings_from_data(data: Any, doc: YamlDocument | None, env: Mapping[str, str]) -> Settings:
    """Validate raw data (already parsed) into Settings, reporting every problem."""
    where = doc.where if doc else (lambda loc: "configuration (" + ".".join(map(str, loc)) + ")")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [
                Problem(
                    where(()),
                    "the file must be a mapping of sections "
                    "(timezone, source, store, salesforce, …).",
                    "start from config.example.yaml.",
                )
            ]
        )
    missing: list[tuple[Location, str]] = []
    data = _substitute_env(data, env, (), missing)
    overridden = _apply_env_overrides(data, env)
    problems = _partly_unset(data, missing, overridden, where)
    if problems:
        raise ConfigError(problems)
    try:
        settings = _validate(data, overridden)
    except ValidationError as exc:
        unset = {".".join(map(str, loc)): name for loc, name in missing}
        for error in exc.errors():
            loc = tuple(error["loc"])
            dotted = ".".join(map(str, loc))
            key = _override_for(dotted, overridden)
            place = (
                f"environment ({ENV_PREFIX}{key.replace('.', '__').upper()})"
                if key is not None
                else where(loc)
            )
            message, fix = _fix_for(error, _sibling_names(Settings, loc))
            if dotted in unset and dotted not in overridden:
                # The value is missing because its variable is: say so, not what type it lacks.
                var = unset[dotted]
                message = f"{dotted} refers to ${{{var}}}, which is not set."
                fix = f"export {var}=… in the connector's environment, or write the value here."
            problems.append(Problem(place, message, fix))
        raise ConfigError(problems) from None
    settings._unset_env = {".".join(map(str, loc)): name for loc, name in missing}
    settings._doc = doc
    if doc is not None:
        base = Path(doc.path).resolve().parent
        sf = settings.salesforce
        for attr in ("private_key_file", "ca_bundle"):
            p = getattr(sf, attr)
            if p is not None and not p.is_absolute():
                setattr(sf, attr, base / p)
        smtp = settings.alerts.smtp
        if smtp.ca_bundle is not None and not smtp.ca_bundle.is_absolute():
            smtp.ca_bundle = base / smtp.ca_bundle
        if settings.mappings is not None and not settings.mappings.is_absolute():
            settings.mappings = base / settings.mappings
        jobs = settings.daemon.jobs
        if jobs is not None and not jobs.is_absolute():
            settings.daemon.jobs = base / jobs
    return settings


def sqlite_url_from(url: str, base: Path) -> str:
    """A SQLite URL whose file is given relative (`sqlite:///product.db`) made absolute from
    `base`, for a configuration written to be used from any working directory; other URLs,
    in-memory databases and `file:` URIs unchanged. (Database URLs in a configuration file
    are read from the working directory, the image's data volume, not the file's folder.)"""
    from sqlalchemy.engine import make_url  # local: keep config import-light

    try:
        parsed = make_url(url)
    except Exception:
        return url  # reported by validation
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if database.startswith("file:") or Path(database).expanduser().is_absolute():
        return url
    return parsed.set(database=str(base / database)).render_as_string(hide_password=False)


def path_problems(settings: Settings) -> list[Problem]:
    """Files and folders the configuration names but which do not exist (checked before a run
    and by `connector check`, so a typo fails up front rather than mid-run)."""
    problems = []
    sf = settings.salesforce
    for attr, what in (("private_key_file", "private key"), ("ca_bundle", "CA bundle")):
        path = getattr(sf, attr)
        if path is not None and not path.is_file():
            problems.append(
                Problem(
                    where_is(settings, "salesforce", attr),
                    f"the {what} file {path} does not exist.",
                    "give the path of an existing file (relative paths are read from the "
                    "configuration file's folder).",
                )
            )
    if settings.mappings is not None and not settings.mappings.is_dir():
        problems.append(
            Problem(
                where_is(settings, "mappings"),
                f"the mappings folder {settings.mappings} does not exist.",
                "give an existing folder (relative to the configuration file), or remove the "
                "key to use the shipped mappings and rules.",
            )
        )
    return problems


REQUIRED_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "jwt": ("client_id", "username", "private_key_file"),
    "client_credentials": ("client_id", "client_secret"),
    "password": ("username", "password"),
}


def credential_problems(settings: Settings) -> list[Problem]:
    """The credentials the chosen auth flow needs but the configuration leaves unset, each
    naming the key and the environment variable it refers to."""
    sf = settings.salesforce
    problems = []
    for key in REQUIRED_CREDENTIALS[sf.auth]:
        if getattr(sf, key) is not None:
            continue
        var = unset_env_for(settings, f"salesforce.{key}")
        why = f" (it refers to ${{{var}}}, which is not set)" if var else ""
        fix = (
            f"export {var}=… in the connector's environment"
            if var
            else f"set salesforce.{key} (or CONNECTOR__SALESFORCE__{key.upper()})"
        )
        problems.append(
            Problem(
                where_is(settings, "salesforce", key),
                f"salesforce.{key} is needed for auth: {sf.auth} but has no value{why}.",
                fix + ", or choose another auth flow.",
            )
        )
    return problems


def load_settings(path: Path | str | None, env: Mapping[str, str] | None = None) -> Settings:
    """Load the configuration file (or the embedded defaults when `path` is None)."""
    env = os.environ if env is None else env
    if path is None:
        return settings_from_data({}, None, env)
    doc = load_yaml(path)
    return settings_from_data(doc.data, doc, env)


def unset_env_for(settings: Settings, dotted_key: str) -> str | None:
    """The environment variable a key referred to but which was not set, if any."""
    return settings._unset_env.get(dotted_key)


def where_is(settings: Settings, *loc: str | int) -> str:
    """`file:line (key)` for a key of the loaded file, for errors raised after loading."""
    doc = settings._doc
    if doc is None:
        return "configuration (" + ".".join(map(str, loc)) + ")"
    return doc.where(tuple(loc))

"""`connector check`: the configuration, mapping and rules offline, then against the org.

Offline, every problem of the mapping and rule files is collected at once. Online, the
product database is opened and its tables read with no rows (`connector.source.check`), the
objects' describes are fetched (a handful of API calls) and the mapping is checked against
them by `connector.mapping.describe_check`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.config import (
    Settings,
    credential_problems,
    load_settings,
    path_problems,
    settings_from_data,
)
from connector.errors import ConfigError, Problem
from connector.logs import get_logger
from connector.mapping.describe_check import describe_problems, objects_to_describe
from connector.mapping.followed import with_followed_contacts
from connector.mapping.loader import load_with_rules
from connector.mapping.schema import SalesforceMapping
from connector.salesforce.client import SalesforceClient
from connector.salesforce.errors import SalesforceRequestError
from connector.source.check import source_problems
from connector.source.generic import column_key_problems
from connector.source.relations import GENERIC_COLUMNS
from connector.yamlfile import load_yaml

log = get_logger(__name__)


@dataclass(frozen=True)
class CheckResult:
    """What `check` found, and what it looked at (for the OK summary)."""

    problems: list[Problem]
    mapping: SalesforceMapping | None
    online: bool
    api_usage: str = ""  # e.g. "API calls today: 1,234 of 15,000", when the org said
    source: str = ""  # e.g. "product database: accounts, users and events readable"

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line saying what was checked."""
        if self.mapping is None:
            return "the mapping could not be read"
        objects = self.mapping.objects.values()
        fields = sum(len(o.fields) for o in objects)
        tasks = len(self.mapping.task_rules)
        where = "against the org" if self.online else "offline"
        extra = "".join(f"; {part}" for part in (self.source, self.api_usage) if part)
        return (
            f"{len(self.mapping.objects)} objects ({', '.join(self.mapping.objects)}), "
            f"{fields} fields and {tasks} task rules checked {where}{extra}"
        )


def _mappings_folder_of(path: Path) -> Settings | None:
    """Default settings with only the `mappings` folder of an invalid configuration file."""
    try:
        data = load_yaml(path).data
    except ConfigError:
        return None
    folder = data.get("mappings") if isinstance(data, dict) else None
    if folder is not None and not isinstance(folder, str):
        return None
    if folder is not None and not Path(folder).is_absolute():
        folder = str(Path(path).resolve().parent / folder)
    try:
        return settings_from_data({"mappings": folder} if folder else {}, None, env={})
    except ConfigError:
        return None


def load_settings_for_check(path: Path | None) -> tuple[Settings | None, list[Problem]]:
    """The settings, or (when the configuration is invalid) its problems together with those
    of the mapping and rule files it points at, so one run reports every error."""
    try:
        return load_settings(path), []
    except ConfigError as exc:
        problems = list(exc.problems)
    fallback = _mappings_folder_of(path) if path is not None else None
    if fallback is not None:
        problems += load_with_rules(fallback)[1]
    return None, problems


def fetch_describes(
    client: SalesforceClient, sobjects: Iterable[str]
) -> dict[str, dict[str, Any] | None]:
    """Each object's describe; None for an object the integration user cannot see."""
    out: dict[str, dict[str, Any] | None] = {}
    for name in sobjects:
        try:
            out[name] = client.describe(name)
        except SalesforceRequestError as exc:
            if exc.status != 404:
                raise
            out[name] = None
    return out


def schedule_problems(settings: Settings) -> list[Problem]:
    """What `connector run` would refuse in the job file and the `schedule:` overrides."""
    from connector.daemon.jobs import resolve_jobs  # local: the scheduler loads only here

    try:
        resolve_jobs(settings)
    except ConfigError as exc:
        return exc.problems
    return []


def run_check(
    settings: Settings, client: SalesforceClient | None, *, source: bool = False
) -> CheckResult:
    """Check offline, then (with a client) against the org's describe; with `source`, also
    that the product database is reachable and its tables readable as configured."""
    mapping, problems = load_with_rules(settings)
    problems = path_problems(settings) + credential_problems(settings) + problems
    problems += schedule_problems(settings)
    keys: list[Problem] = []
    if settings.source.preset == "generic":
        for table in GENERIC_COLUMNS:
            keys += column_key_problems(settings, table)
    problems += keys
    checked_source = ""
    if source:
        found, checked_source = source_problems(settings)
        named = {p.where for p in keys}  # a key named above is not named again
        problems += [p for p in found if p.where not in named]
    if client is None or mapping is None:
        return CheckResult(problems, mapping, online=False, source=checked_source)
    client.connect()
    # with converted_leads: follow, the Lead mapping's fields are written to Contacts too
    written = with_followed_contacts(mapping, settings.salesforce.converted_leads)
    describes = fetch_describes(client, objects_to_describe(written))
    problems = problems + describe_problems(
        written,
        describes,
        create_leads=settings.salesforce.create_leads,
        converted_leads=settings.salesforce.converted_leads,
    )
    log.info("mapping.checked", problems=len(problems), objects=list(describes))
    usage = client.usage
    used = f"API calls today: {usage.used:,} of {usage.limit:,}" if usage else ""
    return CheckResult(problems, mapping, online=True, api_usage=used, source=checked_source)


def check(settings: Settings, client: SalesforceClient | None) -> list[Problem]:
    """Every problem with the configuration's mapping and rules (and, with a client, the org)."""
    return run_check(settings, client).problems

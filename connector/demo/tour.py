"""`connector demo`: the whole product on a fresh machine, with nothing but loopback.

Generate a product database (or read the user's own), start the sandbox org, provision the
fields, fill the org with the CRM records a vendor already has, sync, and read back what
landed — so a newcomer sees real values on real Account and Lead records within a minute.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from connector import clock
from connector.config import Settings, sqlite_url_from
from connector.demo.org_seed import SeedSummary, seed_org
from connector.demo.product_db import DemoSpec, DemoSummary, resolve_as_of, write_demo_db
from connector.mapping import load_mapping
from connector.mapping.provision import provision
from connector.pipeline import RunReport, open_store, run
from connector.salesforce.client import SalesforceClient
from connector.sandbox.client_settings import salesforce_section, settings_for
from connector.sandbox.harness import RunningSandbox, running_sandbox

DEMO_SEED = 7
ACCOUNT_FIELDS = (
    "Name",
    "Engagement_Score__c",
    "Health_Rank__c",
    "Lifecycle_Stage__c",
    "Active_Users_30d__c",
    "Product_Tags__c",
    "Health_Reason__c",
)
LEAD_FIELDS = (
    "Name",
    "Company",
    "Engagement_Score__c",
    "Active_Days_14d__c",
    "Lifecycle_Stage__c",
    "Engaged_Evaluation__c",
)


@dataclass
class DemoResult:
    """Everything the demo's summary shows."""

    folder: Path
    source_url: str
    generated: DemoSummary | None
    seeded: SeedSummary
    provisioned: int
    report: RunReport
    accounts: list[dict[str, Any]] = field(default_factory=list)
    leads: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    task_total: int = 0
    config_file: Path | None = None
    sandbox_url: str = ""
    elapsed_seconds: float = 0.0
    steps: list[tuple[str, float]] = field(default_factory=list)


def _config_file(folder: Path, sb: RunningSandbox, source: str, preset: str, store: str) -> Path:
    section = salesforce_section(sb, "password")
    section["login_url"] = sb.instance_url
    data = {
        "timezone": "UTC",
        "source": {"url": source, "preset": preset},
        "store": {"url": store},
        "salesforce": section,
    }
    path = folder / "config.yaml"
    header = (
        "# Written by `connector demo`: the demo's product database, store and local "
        "sandbox org.\n# The salesforce credentials are the sandbox's own (generated "
        "from its seed); restart it with\n#   connector sandbox --data "
        f"{folder / 'sandbox' / 'org.db'} --seed {DEMO_SEED} --port {sb.port}\n"
    )
    path.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _read_back(client: SalesforceClient, result: DemoResult) -> None:
    fields = ", ".join(ACCOUNT_FIELDS)
    accounts = list(
        client.query(
            f"SELECT {fields} FROM Account WHERE Engagement_Score__c != null "
            "ORDER BY Engagement_Score__c DESC"
        )
    )
    # the most engaged, one in the middle, and the ones at risk
    picked = accounts[:2] + accounts[len(accounts) // 2 : len(accounts) // 2 + 1]
    picked += [a for a in accounts if a.get("Health_Rank__c") == "Poor"][:2]
    result.accounts = picked
    lead_fields = ", ".join(LEAD_FIELDS)
    result.leads = list(
        client.query(
            f"SELECT {lead_fields} FROM Lead WHERE Engagement_Score__c != null "
            "ORDER BY Engagement_Score__c DESC LIMIT 4"
        )
    )
    result.task_total = client.count("SELECT COUNT() FROM Task")
    result.tasks = list(
        client.query(
            "SELECT Subject, Priority, ActivityDate, Owner.Email FROM Task "
            "ORDER BY Priority ASC, Subject ASC LIMIT 6"
        )
    )


def run_demo(
    folder: Path,
    *,
    source: str | None = None,
    preset: str = "generic",
    as_of: datetime | None = None,
    accounts: int = 200,
    days: int = 90,
    step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the demo in `folder` (replaced if it holds an earlier demo)."""
    started = clock.monotonic()
    # The config file it writes names every file absolutely: it works from any folder.
    folder = folder.resolve()
    if source is not None:
        source = sqlite_url_from(source, Path.cwd())
    say = step or (lambda text: None)
    steps: list[tuple[str, float]] = []
    mark = [clock.monotonic()]

    def done(what: str) -> None:
        now = clock.monotonic()
        steps.append((what, now - mark[0]))
        mark[0] = now

    if folder.exists():
        for name in ("product.db", "store.db", "sandbox", "config.yaml"):
            target = folder / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    generated = None
    if source is None:
        say(f"Writing a demo product database ({accounts} accounts, {days} days of usage)")
        source = f"sqlite:///{folder / 'product.db'}"
        as_of = resolve_as_of(as_of)
        generated = write_demo_db(
            source, DemoSpec(accounts=accounts, days=days, seed=DEMO_SEED, as_of=as_of)
        )
        done("product database")
    as_of = as_of or clock.now()
    store = f"sqlite:///{folder / 'store.db'}"
    say("Starting the local Salesforce sandbox")
    with running_sandbox(folder / "sandbox", seed=DEMO_SEED) as sb:
        settings: Settings = settings_for(
            sb, source={"url": source, "preset": preset}, store={"url": store}
        )
        config_file = _config_file(folder, sb, source, preset, store)
        done("sandbox")
        say("Creating the connector's custom fields in the org (provision)")
        with SalesforceClient(settings) as client:
            provisioned = len(provision(settings, client, apply=True).created)
        done("provision")
        say("Pulling usage from the product database")
        engine = open_store(settings)
        run(settings, "pull", as_of=as_of, store=engine)
        match_field = load_mapping(settings).get("Account").match.external_id  # type: ignore[union-attr]
        seeded = seed_org(
            sb.org, sb.user_id, engine, match_field=match_field or "Id", seed=DEMO_SEED
        )
        done("pull")
        say("Scoring and pushing to Salesforce")
        report = run(settings, "sync", as_of=as_of, store=engine)
        done("sync")
        result = DemoResult(
            folder=folder,
            source_url=source,
            generated=generated,
            seeded=seeded,
            provisioned=provisioned,
            report=report,
            config_file=config_file,
            sandbox_url=sb.instance_url,
            steps=steps,
        )
        with SalesforceClient(settings) as client:
            _read_back(client, result)
        engine.dispose()
    result.elapsed_seconds = clock.monotonic() - started

    return result

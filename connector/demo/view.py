"""The demo's one-screen summary."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from connector.demo.tour import DemoResult


def _cell(value: Any, width: int = 28) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(title: str, rows: list[dict[str, Any]], columns: dict[str, str]) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=None,
        header_style="bold cyan",
        pad_edge=False,
    )
    for label in columns.values():
        table.add_column(label)
    for row in rows:
        table.add_row(*(_cell(row.get(key)) for key in columns))
    return table


def render(result: DemoResult) -> RenderableType:
    """What landed in the org, where the files are, and what to do next."""
    report = result.report
    push = report.push
    ok = dict(push.ok) if push else {}
    parts: list[RenderableType] = [
        Text(
            f"Demo finished in {result.elapsed_seconds:.0f} s: {ok.get('Account', 0)} Accounts and "
            f"{ok.get('Lead', 0)} Leads updated, {result.task_total} Tasks opened, "
            f"{report.api_calls} API calls.",
            style="bold green",
        )
    ]
    parts.append(
        _table(
            "Accounts (most engaged, typical, at risk)",
            result.accounts,
            {
                "Name": "Account",
                "Engagement_Score__c": "Engagement",
                "Health_Rank__c": "Health",
                "Lifecycle_Stage__c": "Stage",
                "Active_Users_30d__c": "Users 30d",
                "Product_Tags__c": "Tags",
                "Health_Reason__c": "Why",
            },
        )
    )
    parts.append(
        _table(
            "Leads (hottest trials)",
            result.leads,
            {
                "Name": "Lead",
                "Company": "Company",
                "Engagement_Score__c": "Engagement",
                "Active_Days_14d__c": "Days 14d",
                "Lifecycle_Stage__c": "Stage",
                "Engaged_Evaluation__c": "Engaged",
            },
        )
    )
    tasks = [
        {
            "Subject": t.get("Subject"),
            "Priority": t.get("Priority"),
            "ActivityDate": t.get("ActivityDate"),
            "Owner": (t.get("Owner") or {}).get("Email"),
        }
        for t in result.tasks
    ]
    parts.append(
        _table(
            f"Tasks for the success team ({result.task_total} in all)",
            tasks,
            {
                "Subject": "Subject",
                "Priority": "Priority",
                "ActivityDate": "Due",
                "Owner": "Assigned to",
            },
        )
    )
    skipped = report.plan.skipped if report.plan else ()
    seeded = result.seeded
    accounts = push.unmatched.get("Account", 0) if push else 0
    leads = sum(1 for s in skipped if s.sobject == "Lead")
    notes = [
        f"Unmatched: {_count(accounts, 'Account has', 'Accounts have')} no record in the org "
        f"({seeded.left_out} left out of it on purpose) and "
        f"{_count(leads, 'trial user has', 'trial users have')} no open Lead "
        f"({seeded.converted} converted); `connector status` lists them.",
    ]
    parts.append(Text("\n".join(notes), style="dim"))
    files = Table(box=None, show_header=False, pad_edge=False)
    files.add_column(style="bold")
    files.add_column()
    files.add_row("product DB", result.source_url)
    files.add_row("store", str(result.folder / "store.db"))
    files.add_row("sandbox org", str(result.folder / "sandbox" / "org.db"))
    files.add_row("config", str(result.config_file))
    parts.append(Text("Files", style="bold"))
    parts.append(files)
    parts.append(
        Text(
            "Next: explore with `connector status -c CONFIG`, `connector account ID -c CONFIG` and "
            "`connector report -c CONFIG`.\nPoint it at a real org: create a connected app with a "
            "certificate (JWT), set salesforce.login_url, auth: jwt, client_id, username and "
            "private_key_file in a config file, then run `connector check`, `connector provision "
            "--apply`, `connector plan` and `connector run` (see README: From demo to a real org).",
            style="cyan",
        )
    )
    return Group(*parts)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"

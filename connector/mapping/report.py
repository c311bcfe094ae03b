"""Print `check` problems and `provision` plans for a person at a terminal (rich)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from connector.errors import Problem
from connector.mapping.provision import PERMISSION_SET_NAME, ProvisionResult
from connector.mapping.provision_plan import ProvisionPlan


def print_problems(console: Console, problems: Sequence[Problem]) -> None:
    """Every problem with where it is and its fix, numbered."""
    noun = "problem" if len(problems) == 1 else "problems"
    console.print(f"[bold red]{len(problems)} {noun} found[/]")
    for i, p in enumerate(problems, 1):
        console.print(f"\n[bold]{i}.[/] [cyan]{escape(p.where)}[/]")
        console.print(f"   {escape(p.message)}")
        if p.fix:
            console.print(f"   [green]Fix:[/] {escape(p.fix)}")


def print_plan(console: Console, plan: ProvisionPlan, *, title: str) -> None:
    """The fields to create, values to add and access to grant, as tables."""
    if plan.create:
        table = Table(title=f"{title}: custom fields to create", title_justify="left")
        for column in ("object", "field", "type"):
            table.add_column(column)
        for new in plan.create:
            table.add_row(new.sobject, new.field, escape(new.describe()))
        console.print(table)
    if plan.values:
        table = Table(title=f"{title}: picklist values to add", title_justify="left")
        for column in ("object", "field", "values"):
            table.add_column(column)
        for nv in plan.values:
            table.add_row(nv.sobject, nv.field, escape(", ".join(nv.values)))
        console.print(table)
    if plan.grants:
        fields = ", ".join(g.full_name for g in plan.grants)
        console.print(
            f"{title}: read and edit access for the integration user on {len(plan.grants)} "
            f"field(s) through the permission set {PERMISSION_SET_NAME}: {escape(fields)}"
        )


def print_result(console: Console, result: ProvisionResult) -> None:
    """What provision found or did, ending with the one line a user needs next."""
    if result.plan.empty and not result.plan.problems:
        console.print("[green]Nothing to do:[/] the org has every field the mapping needs.")
        return
    if result.plan.problems:
        print_problems(console, result.plan.problems)
        console.print("\nNothing was changed: fix these in the mapping first.")
        print_plan(console, result.plan, title="Would also change")
        return
    if not result.applied:
        print_plan(console, result.plan, title="Would change")
        if not result.plan.empty:
            console.print("\nRun again with [bold]--apply[/] to make these changes.")
        return
    console.print(
        f"[green]Done:[/] {len(result.created)} field(s) created, {len(result.values_added)} "
        f"picklist value(s) added, {len(result.granted)} field permission(s) granted."
    )
    if result.remaining is not None and not result.remaining.empty:
        print_plan(console, result.remaining, title="Still missing")

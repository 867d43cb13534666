"""``import`` and ``items``: bring items into the bank and control their versions."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from exam_core.model import INTERACTION_TYPES, ITEM_STATUSES
from item_bank_sync.bank.store import CLASH_POLICIES
from item_bank_sync.cli.common import actor_option, central, emit, json_option, progress_enabled, refusals_exit
from item_bank_sync.items.importer import NAMESPACE_RE, ImportOptions, count_sources
from item_bank_sync.bank.import_run import ImportReport, run_import


def _check_namespace(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value and not NAMESPACE_RE.match(value):
        raise click.BadParameter("letters, digits, _ or - (at most 32, starting with a letter or _)")
    return value


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--area", help="Competency area given to imported QTI items (YAML items name their own).")
@click.option("--assume-match-correct", is_flag=True,
              help="Score items that declare a correctResponse but no responseProcessing with match_correct "
                   "(without it they are rejected).")
@click.option("--namespace", default="", callback=_check_namespace,
              help="Source namespace: stored identifiers become NAMESPACE.ID, so items of different sources "
                   "that reuse a name (choice, question1) stay apart.")
@click.option("--on-clash", type=click.Choice(CLASH_POLICIES), default="refuse", show_default=True,
              help="When another file already gave an item this identifier: refuse, or store as its next version.")
@click.option("--dry-run", is_flag=True, help="Report what the import would do; change nothing.")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def import_command(ctx: click.Context, paths: tuple[Path, ...], area: str | None, assume_match_correct: bool,
                   namespace: str, on_clash: str, dry_run: bool, actor: str) -> None:
    """Import QTI 2.1/2.2/3.0 items and native YAML items from files, folders and content packages (.zip).

    Exit status 0 when nothing was rejected, 1 otherwise. Re-importing changed content from the
    same file creates a new draft version; unchanged content is a no-op; another file reusing an
    identifier is a clash (see --namespace, --on-clash). The report groups refusals and warnings
    by source folder and reason.
    """
    bank = central(ctx).item_bank()
    options = ImportOptions(area=area, assume_match_correct=assume_match_correct, namespace=namespace)
    with Progress(disable=not progress_enabled(ctx), transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task("importing", total=count_sources(list(paths)))
        report = run_import(bank, list(paths), options, actor, dry_run=dry_run, on_clash=on_clash,
                            advance=lambda: progress.advance(task))
    emit(ctx, report.to_json(), lambda c: _print_import(c, report))
    ctx.exit(1 if report.rejected else 0)


def _print_import(console: Console, report: ImportReport) -> None:
    for row in report.imported:
        console.print(f"[green]{row['outcome']:>11}[/green] {row['item_id']} v{row['version']} "
                      f"({row['interaction']})  [dim]{row['source']}[/dim]", highlight=False)
        for warning in row["warnings"]:
            console.print(f"            [yellow]warning:[/yellow] {warning}", highlight=False)
    for row in report.rejected:
        console.print(f"[red]   rejected[/red] {row['source']}: {row['reason']}", highlight=False)
    summary = report.summary()
    table = Table("source folder", "imported", "refused", "warnings", "refused by reason",
                  title="dry run: nothing was changed" if report.dry_run else "import report")
    for f in summary["folders"]:
        reasons = "\n".join(f"{n} x {r}" for r, n in f["refused_by_reason"].items())
        table.add_row(f["folder"], str(f["imported"]), str(f["refused"]), str(f["warnings"]), reasons)
    console.print(table)
    console.print(f"{len(report.imported)} imported, {len(report.rejected)} rejected"
                  + (" (dry run: nothing was changed)" if report.dry_run else ""))


@click.group("items")
def items_group() -> None:
    """List, show and review items (document control: draft -> reviewed -> approved -> retired)."""


@items_group.command("list")
@click.option("--status", type=click.Choice(ITEM_STATUSES))
@click.option("--area", help="Only this competency area.")
@click.option("--interaction", type=click.Choice(INTERACTION_TYPES))
@click.option("--search", "text", help="Substring of the title or identifier.")
@click.option("--all-versions", is_flag=True, help="Every version, not only the latest of each item.")
@json_option
@click.pass_context
@refusals_exit
def items_list(ctx: click.Context, status: str | None, area: str | None, interaction: str | None,
               text: str | None, all_versions: bool) -> None:
    """List items with their version and status."""
    rows = central(ctx).item_bank().list(status=status, area=area, interaction=interaction, text=text,
                                         all_versions=all_versions)

    def human(console: Console) -> None:
        table = Table("item", "v", "status", "area", "interaction", "title")
        for r in rows:
            table.add_row(r["item_id"], str(r["version"]), r["status"], r["competency_area"] or "",
                          r["interaction"], r["title"])
        console.print(table)
        console.print(f"{len(rows)} item(s)")
    emit(ctx, {"items": rows}, human)


@items_group.command("show")
@click.argument("item_id")
@click.option("--version", type=int, help="Version to show (default: latest).")
@json_option
@click.pass_context
@refusals_exit
def items_show(ctx: click.Context, item_id: str, version: int | None) -> None:
    """Show one item version: content, answer key, and its status history."""
    data = central(ctx).item_bank().show(item_id, version)

    def human(console: Console) -> None:
        item = data["item"]
        console.print(f"[bold]{item_id}[/bold] v{data['version']} of {data['versions']}  "
                      f"status [bold]{data['status']}[/bold]  area {item['competency_area'] or '-'}", highlight=False)
        console.print(f"title: {item['title']}\nsource: {data['source']} ({data['source_format']})\n"
                      f"content hash: {data['content_hash']}", highlight=False)
        for inter in item["interactions"]:
            console.print(f"interaction {inter['response_id']}: {inter['type']} ({inter['cardinality']} "
                          f"{inter['base_type']}), {len(inter['choices'])} choices", highlight=False)
        for key in data["key"]["responses"]:
            console.print(f"key {key['response_id']}: {key['template']} correct={key['correct']!r} "
                          f"max={key['max_score']}", highlight=False)
        if data["key"].get("rubric_html"):
            console.print(f"rubric for markers: {data['key']['rubric_html']}", highlight=False)
        table = Table("v", "from", "to", "by", "at", "note", title="history")
        for h in data["history"]:
            table.add_row(str(h["version"]), h["from"] or "", h["to"], h["by"], h["at"], h["note"])
        console.print(table)
    emit(ctx, data, human)


def _transition_command(action: str, help_text: str) -> click.Command:
    @click.command(action, help=help_text)
    @click.argument("item_id")
    @click.option("--by", required=True, help="Name of the person acting (recorded with the time).")
    @click.option("--note", default="", help="Why (recorded).")
    @click.option("--version", type=int, help="Version (default: latest).")
    @json_option
    @click.pass_context
    @refusals_exit
    def command(ctx: click.Context, item_id: str, by: str, note: str, version: int | None) -> None:
        result = central(ctx).item_bank().transition(action, item_id, by, note, version)
        emit(ctx, result, lambda c: c.print(f"{item_id} v{result['version']}: {result['from']} -> "
                                            f"{result['status']} by {by} at {result['at']}", highlight=False))
    return command


items_group.add_command(_transition_command("review", "Mark a draft version reviewed."))
items_group.add_command(_transition_command("approve",
                                            "Approve a reviewed version (by someone other than its reviewer)."))
items_group.add_command(_transition_command("retire", "Retire a version: it can no longer be placed on forms."))

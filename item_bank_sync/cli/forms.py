"""``schemes``, ``forms``, ``publish`` and ``export``: certification schemes, blueprint form assembly,
sealed form packages for one centre, and QTI export of a form."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from item_bank_sync.cli.common import actor_option, central, emit, err_console, fail, json_option, refusals_exit
from item_bank_sync.forms.actions import add_scheme, build_forms, scheme_coverage
from item_bank_sync.forms.assembly import BlueprintUnsatisfiable
from item_bank_sync.forms.export import export_form
from item_bank_sync.forms.publish import parse_when, publish
from item_bank_sync.forms.schemes import SchemeStore
from item_bank_sync.forms.store import FormStore


@click.group("schemes")
def schemes_group() -> None:
    """Certification schemes: blueprint, duration, cut score, accommodations, enemy groups."""


@schemes_group.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@actor_option
@json_option
@click.pass_context
@refusals_exit
def schemes_add(ctx: click.Context, file: Path, actor: str) -> None:
    """Add a scheme from its YAML file (docs/ITEM-FORMATS.md); a changed scheme needs a new version."""
    added = add_scheme(central(ctx), file.read_bytes(), str(file), actor)
    scheme, outcome = added.scheme, added.outcome
    emit(ctx, {"scheme_id": scheme.scheme_id, "version": scheme.version, "outcome": outcome,
               "form_length": scheme.form_length},
         lambda con: con.print(f"scheme {scheme.scheme_id} v{scheme.version}: {outcome} "
                               f"({scheme.form_length} items per form)", highlight=False))


@schemes_group.command("show")
@click.argument("scheme_id")
@click.option("--version", type=int, help="Version (default: latest).")
@json_option
@click.pass_context
@refusals_exit
def schemes_show(ctx: click.Context, scheme_id: str, version: int | None) -> None:
    """Show a scheme and how many approved items each blueprint area has."""
    scheme = SchemeStore(central(ctx).open_bank_db()).get(scheme_id, version)
    data = scheme_coverage(central(ctx), scheme_id, version)

    def human(con: Console) -> None:
        con.print(f"[bold]{scheme.scheme_id}[/bold] v{scheme.version}: {scheme.title}\n"
                  f"duration {scheme.duration_minutes} min, cut score {scheme.cut_score_percent}%, "
                  f"{scheme.form_length} items per form", highlight=False)
        if scheme.eligibility:
            con.print(f"eligibility: {scheme.eligibility.strip()}", highlight=False)
        table = Table("area", "title", "items per form", "approved in bank")
        for area in data["blueprint"]:
            table.add_row(area["area"], area["title"], str(area["items"]), str(area["approved_items"]))
        con.print(table)
        con.print(f"accommodations allowed: {', '.join(scheme.accommodations_allowed) or 'none'}"
                  f" (extra time up to {scheme.max_extra_time_percent}%)", highlight=False)
        tools = [f"{k}: {v}" if isinstance(v, str) else k for k, v in scheme.tools.items() if v not in (False, "none")]
        con.print(f"candidate tools: {', '.join(tools) or 'none'}", highlight=False)
        for n, group in enumerate(scheme.enemy_groups, 1):
            con.print(f"enemy group {n}: {', '.join(group)}", highlight=False)
    emit(ctx, data, human)


@schemes_group.command("list")
@json_option
@click.pass_context
@refusals_exit
def schemes_list(ctx: click.Context) -> None:
    """List schemes."""
    rows = SchemeStore(central(ctx).open_bank_db()).list()

    def human(con: Console) -> None:
        for r in rows:
            con.print(f"{r['scheme_id']} v{r['version']}: {r['title']}  [dim]{r['created_at']}[/dim]", highlight=False)
    emit(ctx, {"schemes": rows}, human)


@click.group("forms")
def forms_group() -> None:
    """Assemble and inspect parallel linear forms."""


@forms_group.command("build")
@click.option("--scheme", "scheme_id", required=True, help="Scheme id (latest version unless --scheme-version).")
@click.option("--scheme-version", type=int)
@click.option("--count", type=click.IntRange(1, 1000), required=True, help="Number of parallel forms.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), required=True, help="Seed: same seed, same forms.")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def forms_build(ctx: click.Context, scheme_id: str, scheme_version: int | None, count: int, seed: int,
                actor: str) -> None:
    """Build COUNT forms meeting the blueprint exactly, without enemies together, spreading exposure."""
    try:
        built = build_forms(central(ctx), scheme_id, scheme_version, count, seed, actor)
    except BlueprintUnsatisfiable as exc:
        fail(ctx, str(exc), data={"shortfalls": exc.shortfalls})
        return
    forms, report, data = built.forms, built.report, built.to_dict()

    def human(con: Console) -> None:
        table = Table("form", "v", "items", "mean p", "outcome")
        for f in forms:
            table.add_row(f["form_id"], str(f["version"]), str(f["items"]),
                          "-" if f["mean_p"] is None else f"{f['mean_p']:.3f}", f["outcome"])
        con.print(table)
        con.print(f"largest overlap between two forms: {report.max_overlap} items "
                  f"({report.max_overlap_fraction:.0%}); highest item exposure: {report.max_exposure} form(s)")
        if report.target_p is not None:
            con.print(f"difficulty: target mean p {report.target_p:.3f}, "
                      f"spread between forms {report.mean_p_range:.4f}")
        else:
            con.print("difficulty: no item statistics yet, not balanced")
    emit(ctx, data, human)


@forms_group.command("list")
@click.option("--scheme", "scheme_id")
@json_option
@click.pass_context
@refusals_exit
def forms_list(ctx: click.Context, scheme_id: str | None) -> None:
    """List forms."""
    rows = FormStore(central(ctx).open_bank_db()).list(scheme_id)

    def human(con: Console) -> None:
        table = Table("form", "v", "scheme", "items", "mean p", "created")
        for r in rows:
            table.add_row(r["form_id"], str(r["version"]), f"{r['scheme_id']} v{r['scheme_version']}",
                          str(r["items"]), "-" if r["mean_p"] is None else f"{r['mean_p']:.3f}", r["created_at"])
        con.print(table)
    emit(ctx, {"forms": rows}, human)


@forms_group.command("show")
@click.argument("form_id")
@click.option("--version", type=int)
@json_option
@click.pass_context
@refusals_exit
def forms_show(ctx: click.Context, form_id: str, version: int | None) -> None:
    """Show a form's items in delivery order."""
    form = FormStore(central(ctx).open_bank_db()).get(form_id, version)

    def human(con: Console) -> None:
        con.print(f"[bold]{form.form_id}[/bold] v{form.version} ({form.scheme_id} v{form.scheme_version}): "
                  f"{form.title}, {form.duration_seconds // 60} min", highlight=False)
        for n, ref in enumerate(form.items, 1):
            con.print(f"{n:4d}. {ref.item_id} v{ref.version}  [dim]{ref.area}[/dim]", highlight=False)
    emit(ctx, form.to_dict(), human)


@click.command("publish")
@click.option("--form", "form_id", required=True, help="Form id (see `forms list`).")
@click.option("--form-version", type=int, help="Default: latest version of the form.")
@click.option("--centre", "centre_id", required=True, help="Enrolled centre that may open the package.")
@click.option("--opens", required=True, help="Start of the delivery window, ISO 8601 with offset.")
@click.option("--closes", required=True, help="End of the delivery window, ISO 8601 with offset.")
@click.option("--release-code", is_flag=True, help="Also require a code the proctor enters at the centre.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also copy the package into this folder (e.g. removable media).")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def publish_command(ctx: click.Context, form_id: str, form_version: int | None, centre_id: str, opens: str,
                    closes: str, release_code: bool, out_dir: Path | None, actor: str) -> None:
    """Seal a form for one centre: signed manifest, encrypted content, no answer keys."""
    with err_console.status("sealing package", spinner="dots") if not central(ctx).json_output else nullcontext():
        result = publish(central(ctx), form_id=form_id, centre_id=centre_id, opens=parse_when(opens, "--opens"),
                         closes=parse_when(closes, "--closes"), release_code=release_code, out_dir=out_dir,
                         by=actor, form_version=form_version)

    def human(c: Console) -> None:
        c.print(f"package {result['package_id']}: form {result['form_id']} v{result['form_version']} for "
                f"{centre_id}, {result['items']} items, {result['media']} media, {result['bytes']} bytes\n"
                f"stored {result['stored']}" + (f"\ncopied to {result['file']}" if result["file"] else ""),
                highlight=False)
        if result["release_code"]:
            c.print(f"[bold]release code (shown once, give it to the proctor out of band): "
                    f"{result['release_code']}[/bold]", highlight=False)
    emit(ctx, result, human)


@click.command("export")
@click.option("--form", "form_id", required=True, help="Form id (see `forms list`).")
@click.option("--form-version", type=int, help="Default: latest version of the form.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.zip to write.")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def export_command(ctx: click.Context, form_id: str, form_version: int | None, out: Path, actor: str) -> None:
    """Write a form's items as a QTI 3.0 content package (with answer keys: keep it confidential)."""
    result = export_form(central(ctx), form_id, out, form_version, actor)
    emit(ctx, result, lambda c: c.print(f"exported {result['items']} items and {result['media']} media files of "
                                        f"{result['form_id']} v{result['form_version']} to {out} "
                                        "(contains answer keys)", highlight=False))


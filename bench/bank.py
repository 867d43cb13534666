"""Item bank: QTI import and blueprint form assembly, against raw baselines measured in the same run.

* import 5,000 generated QTI 2.1 items (files written to a temp dir) into a bank: cost per item,
  against a bare ``lxml`` parse of the same bytes (``etree.fromstring``);
* the importer's parse and checks alone (no database, CPU time), against the same baseline;
* assembling 20 forms of 100 items from a 2,000-item approved bank (5 areas, enemy groups,
  item statistics so difficulty balancing runs), against drawing the same number of items
  with ``random.sample`` (no constraints);

``--quick`` uses 200 items and 20 forms of 10 from a 250-item bank.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from lxml import etree
from sqlalchemy import update

from bench.common import Figure
from item_bank_sync.forms.assembly import assemble
from item_bank_sync.bank.schema import items as items_table
from item_bank_sync.bank.store import MAX_BATCH, ItemBank
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import write
from item_bank_sync.forms.store import FormStore, load_pool, record_item_stats
from item_bank_sync.items.importer import ImportOptions, iter_sources
from item_bank_sync.items.qti.reader import ParsedItem, parse_qti_item
from item_bank_sync.forms.schemes import SchemeStore, parse_scheme
from item_bank_sync.items.synthetic import generate, scheme_yaml, write_items

BENCH = "bank"
AREAS = ["a1", "a2", "a3", "a4", "a5"]


def run(quick: bool) -> list[Figure]:
    import_count, bank_size, forms, per_form = (200, 250, 20, 10) if quick else (5000, 2000, 20, 100)
    with tempfile.TemporaryDirectory(prefix="bench-bank-") as tmp:
        root = Path(tmp)
        items = generate(import_count, AREAS, seed=1)
        write_items(root / "qti", items)
        figures = _import_figures(root, import_count)
        figures += _assembly_figures(root, bank_size, forms, per_form)
    return figures


def _import_figures(root: Path, count: int) -> list[Figure]:
    """Interleaved per batch (lxml, our parse, our full import of the same files), so that load
    from other processes on the machine hits baseline and measurement alike. Parsing is CPU work
    and is timed in process CPU time; the full import waits for fsync and is timed on the wall clock.
    """
    ctx = CentralContext(root / "central")
    bank = ctx.item_bank()
    raw = parse_cpu = full = 0.0
    for area in AREAS:
        files = sorted((root / "qti" / area).glob("*.xml"))
        for start in range(0, len(files), MAX_BATCH):
            chunk = files[start:start + MAX_BATCH]
            blobs = [p.read_bytes() for p in chunk]
            t0 = time.process_time()
            for blob in blobs:
                etree.fromstring(blob)
            t1 = time.process_time()
            parsed = [parse_qti_item(blob, str(p), _no_media, area=area) for p, blob in zip(chunk, blobs)]
            t2 = time.process_time()
            raw += t1 - t0
            parse_cpu += t2 - t1
            wall = time.perf_counter()
            outcomes = list(iter_sources(chunk, ImportOptions(area=area)))
            batch = [o for o in outcomes if isinstance(o, ParsedItem)]
            assert len(batch) == len(outcomes) == len(parsed)  # every generated item imports
            bank.store_batch(batch, "bench")
            full += time.perf_counter() - wall
    ctx.close()
    note = (f"{count} items, {full:.1f} s in all; parse, sanitise, check, hash, store in batches of {MAX_BATCH} "
            "(one FULL-fsync transaction + one audit entry and signed checkpoint per batch); wall clock")
    return [
        Figure(BENCH, "import per item (read+parse+check+store+audit)", full / count * 1e6, "us",
               "bare lxml parse (CPU)", raw / count * 1e6, note=note),
        Figure(BENCH, "parse+sanitise+check per item (CPU, no database)", parse_cpu / count * 1e6, "us",
               "bare lxml parse (CPU)", raw / count * 1e6,
               note="parse_qti_item: safe parser, QTI checks, sanitised HTML, strict model validation"),
    ]


def _no_media(src: str, element: str) -> bytes:
    raise AssertionError(f"generated items have no media ({element} {src})")


def _store_all(bank: ItemBank, folder: Path, area: str) -> None:
    """What ``import`` does: parse each file, store in batches (one transaction + audit entry each)."""
    batch: list[ParsedItem] = []
    for outcome in iter_sources([folder], ImportOptions(area=area)):
        assert isinstance(outcome, ParsedItem), outcome  # every generated item imports
        batch.append(outcome)
        if len(batch) == MAX_BATCH:
            bank.store_batch(batch, "bench")
            batch.clear()
    if batch:
        bank.store_batch(batch, "bench")


def _assembly_figures(root: Path, bank_size: int, forms: int, per_form: int) -> list[Figure]:
    ctx = CentralContext(root / "assembly")
    bank = ctx.item_bank()
    items = generate(bank_size, AREAS, seed=2, prefix="pool")
    write_items(root / "pool", items)
    for area in AREAS:
        _store_all(bank, root / "pool" / area, area)
    db = ctx.open_bank_db()
    # Approval is not what is measured: set every version approved in one statement.
    with write(db) as conn:
        conn.execute(update(items_table).values(status="approved"))
    rng = random.Random(3)
    for item_id, _, _ in items:  # what item analysis (issue 8) writes after a sitting
        record_item_stats(db, item_id, 1, p=rng.uniform(0.2, 0.95), n=500, source="bench")
    groups = [[items[i][0], items[i + 5][0]] for i in range(0, 50, 10)]
    scheme = parse_scheme(scheme_yaml("BENCH", AREAS, per_form // len(AREAS), groups).encode(), "bench.yaml")
    SchemeStore(db).add(scheme, "")
    pool = load_pool(db)

    start = time.perf_counter()
    report = assemble(scheme, pool, forms, seed=11)
    FormStore(db).save_build(scheme, report, 11, ctx.item_bank().media.get)
    ours = time.perf_counter() - start

    start = time.perf_counter()
    for _ in range(forms):
        random.Random(11).sample(pool, per_form)
    raw = time.perf_counter() - start
    ctx.close()
    return [Figure(BENCH, f"assemble+store {forms} forms of {per_form} from {bank_size}", ours * 1e3, "ms",
                   "random.sample of the same items", raw * 1e3,
                   note=f"max overlap {report.max_overlap} items, max exposure {report.max_exposure}, "
                        f"mean p spread {report.mean_p_range}")]

"""A central body with one attempt passed and decided, for the certificate and public-site tests.

The attempt goes the real way: a sealed envelope through intake (proctored by ``PROCTOR``), its
essay marked by two markers (``MARKERS``), the pass decided by ``DECIDER``. Everything is written
by the product's own functions; nothing is inserted by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from exam_core.sync_wire import EnvelopeMeta
from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.certificates.settings import IssuerSettings, save_settings
from item_bank_sync.context import CentralContext
from item_bank_sync.results.decisions import decide
from item_bank_sync.results.intake import Intake
from item_bank_sync.results.marking import record_mark
from tests.support.central_db import central_db, sql
from tests.support.central_world import CENTRE_ID, World, build_world

PROCTOR = "Pat Proctor"
MARKERS = ("Mia Marker", "Max Marker")
DECIDER = "Dana Decider"
ATTEMPT = "att-1"
PUBLIC_URL = "https://verify.example.test"


@dataclass
class Passed:
    """The world, its central context (close it at the end) and the attempt that passed."""

    world: World
    ctx: CentralContext
    attempt_id: str = ATTEMPT

    def registry(self, **kwargs) -> CertificateRegistry:
        return CertificateRegistry(self.ctx, **kwargs)


def pass_attempt(world: World, attempt_id: str, candidate_name: str = "", *, decided: bool = True) -> None:
    """Receive, mark (two markers agree) and (unless not ``decided``) decide ``attempt_id`` as a pass."""
    stores = central_db(world.data_dir)
    intake = Intake(stores.bank, stores.results, world.keys, [])
    payload = world.payload(attempt_id, {"q1": "A", "q2": ["A", "C"], "q3": "A careful essay"},
                            **({"candidate_name": candidate_name} if candidate_name else {}))
    intake.receive(world.seal(attempt_id, {}, payload=payload), CENTRE_ID, EnvelopeMeta(proctors=(PROCTOR,)))
    task = sql(stores.results).execute("SELECT task_id FROM marking_tasks WHERE attempt_id = ?",
                                       [attempt_id]).fetchone()[0]
    for marker in MARKERS:
        record_mark(stores.results, task, marker, 3)
    if decided:
        decide(stores.results, attempt_id, DECIDER, "pass", "at or above the cut score")


def passed_world(data_dir: Path, public_url: str = PUBLIC_URL) -> Passed:
    world = build_world(data_dir, cut_score=3.0)
    pass_attempt(world, ATTEMPT)
    ctx = CentralContext(data_dir=data_dir)
    save_settings(ctx, IssuerSettings(public_url=public_url))
    return Passed(world, ctx)

"""IRT-parallel form assembly: the assembled form's information must meet the target it was given.

The target is the TIF of a reference form drawn from the same simulated pool, so a parallel form is
known to exist; the check must also refuse a form that is clearly easier than the target.
"""

from __future__ import annotations

import numpy as np
import pytest

from item_bank_sync.psychometrics.assembly import DEFAULT_GRID, assemble_to_tif, check_tif, item_information
from item_bank_sync.psychometrics.errors import PsychometricsError


@pytest.fixture(scope="module")
def pool():
    rng = np.random.default_rng(20260507)
    return rng.uniform(0.6, 2.0, 200), rng.normal(0, 1.1, 200)


def test_assembled_form_matches_a_reference_forms_tif(pool):
    a, b = pool
    reference = list(range(0, 200, 5))[:30]
    target = item_information(a[reference], b[reference], DEFAULT_GRID).sum(axis=0)
    chosen, report = assemble_to_tif(a, b, 30, target, tolerance=0.05, exclude=reference)
    assert len(set(chosen)) == 30 and not set(chosen) & set(reference)
    assert report.within_tolerance and report.max_relative_deviation <= 0.05
    again = check_tif(a[chosen], b[chosen], target, 0.05)
    assert again.max_relative_deviation == pytest.approx(report.max_relative_deviation)


def test_an_easier_form_is_not_parallel(pool):
    a, b = pool
    target = item_information(a[:30], b[:30], DEFAULT_GRID).sum(axis=0)
    easy = check_tif(a[:30], b[:30] - 1.0, target, 0.1)
    assert not easy.within_tolerance and easy.max_relative_deviation > 0.1
    assert easy.to_dict()["points"][0]["theta"] == -2.0


def test_refusals(pool):
    a, b = pool
    with pytest.raises(PsychometricsError, match="tolerance"):
        check_tif(a[:3], b[:3], [1, 1, 1, 1, 1], 1.5)
    with pytest.raises(PsychometricsError, match="cannot choose"):
        assemble_to_tif(a[:5], b[:5], 6, [1, 1, 1, 1, 1], 0.1)

"""IRT-parallel forms: test information functions that match a target within a tolerance.

Two forms measure equally precisely wherever their test information functions (TIFs) agree
(Samejima, 1977; van der Linden, 2005, ch. 1), so a form is accepted as parallel to a target when
``|I_form(theta) - I_target(theta)| <= tolerance * I_target(theta)`` at every point of a theta
grid. :func:`check_tif` reports that; :func:`assemble_to_tif` builds a form of a given length from a
calibrated 2PL pool: a greedy pass adds, at each step, the item that most reduces the largest
deviation from its share of the target so far (``k / length`` of it after ``k`` items),
then pairwise swaps with the pool lower the sum of squared relative
deviations (smoother than the maximum, which stalls a swap search) until no swap helps. It is a
heuristic (the exact problem is an integer programme), so the result always says whether the
tolerance was met rather than assuming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from item_bank_sync.psychometrics.errors import PsychometricsError

DEFAULT_GRID = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])


def item_information(a: np.ndarray, b: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """2PL item information ``a^2 P (1 - P)``, items x theta."""
    p = expit(np.asarray(a)[:, None] * (np.asarray(theta)[None, :] - np.asarray(b)[:, None]))
    return np.asarray(a)[:, None] ** 2 * p * (1 - p)


@dataclass
class TIFCheck:
    within_tolerance: bool
    max_relative_deviation: float
    theta: list[float]
    form_information: list[float]
    target_information: list[float]

    def to_dict(self) -> dict[str, Any]:
        return {"within_tolerance": self.within_tolerance,
                "max_relative_deviation": round(self.max_relative_deviation, 6),
                "points": [{"theta": t, "form": round(f, 6), "target": round(g, 6)}
                           for t, f, g in zip(self.theta, self.form_information, self.target_information)]}


def check_tif(a: ArrayLike, b: ArrayLike, target: ArrayLike, tolerance: float,
              theta: ArrayLike = tuple(DEFAULT_GRID)) -> TIFCheck:
    """Is the form's TIF within ``tolerance`` (relative) of ``target`` at every ``theta``?"""
    theta_arr, target_arr = np.asarray(theta, float), np.asarray(target, float)
    if theta_arr.shape != target_arr.shape or np.any(target_arr <= 0):
        raise PsychometricsError("the target needs one positive information value per theta point")
    if not 0 < tolerance < 1:
        raise PsychometricsError("the tolerance is a share of the target, between 0 and 1")
    info = item_information(np.asarray(a, float), np.asarray(b, float), theta_arr).sum(axis=0)
    dev = float(np.max(np.abs(info - target_arr) / target_arr))
    return TIFCheck(dev <= tolerance, dev, theta_arr.tolist(), info.tolist(), target_arr.tolist())


def assemble_to_tif(a: Sequence[float], b: Sequence[float], length: int, target: Sequence[float],
                    tolerance: float, theta: Sequence[float] = tuple(DEFAULT_GRID),
                    exclude: Sequence[int] = ()) -> tuple[list[int], TIFCheck]:
    """Choose ``length`` pool items (indices) whose TIF approaches ``target``; see the module doc."""
    info = item_information(np.asarray(a, float), np.asarray(b, float), np.asarray(theta, float))
    target_arr = np.asarray(target, float)
    available = [i for i in range(info.shape[0]) if i not in set(exclude)]
    if length < 1 or length > len(available):
        raise PsychometricsError(f"cannot choose {length} items from a pool of {len(available)}")
    chosen: list[int] = []
    total = np.zeros_like(target_arr)
    for step in range(length):
        path = target_arr * (step + 1) / length  # the target's share after this many items
        candidates = [i for i in available if i not in chosen]
        scores = [np.max(np.abs(total + info[i] - path) / target_arr) for i in candidates]
        best = candidates[int(np.argmin(scores))]
        chosen.append(best)
        total += info[best]
    chosen = _improve_by_swaps(info, target_arr, chosen, available)
    return chosen, check_tif(np.asarray(a)[chosen], np.asarray(b)[chosen], target_arr, tolerance, theta)


def _improve_by_swaps(info: np.ndarray, target: np.ndarray, chosen: list[int], available: list[int],
                      rounds: int = 50) -> list[int]:
    def deviation(total: np.ndarray) -> float:
        return float(np.sum(((total - target) / target) ** 2))

    chosen = list(chosen)
    total = info[chosen].sum(axis=0)
    for _ in range(rounds):
        best_deviation, swap = deviation(total), None  # swap: (position in chosen, pool item)
        outside = [i for i in available if i not in chosen]
        for pos, out_item in enumerate(chosen):
            base = total - info[out_item]
            for in_item in outside:
                d = deviation(base + info[in_item])
                if d < best_deviation - 1e-12:
                    best_deviation, swap = d, (pos, in_item)
        if swap is None:
            break
        pos, in_item = swap
        total = total - info[chosen[pos]] + info[in_item]
        chosen[pos] = in_item
    return chosen

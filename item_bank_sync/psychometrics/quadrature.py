"""Quadrature rules for integrating over a standard normal latent trait.

Marginal maximum likelihood (Bock & Aitkin, 1981) replaces the integral over the ability
distribution by a weighted sum over fixed nodes. Two rules are offered because the two reference
programs differ, and matching a reference to its published digits needs its own rule:

- :func:`gauss_hermite` (as R ``ltm``, 21 points there): the nodes and weights of the
  probabilists' Gauss-Hermite rule, exact for polynomials up to degree ``2n - 1`` times the normal
  density;
- :func:`rectangular` (the default of calibration, as R ``mirt``: 61 equally spaced points on
  [-6, 6]): normal density values at equally spaced nodes, normalised to sum to one. Its even
  spacing keeps working when a long test makes each posterior narrower than Gauss-Hermite's
  central node gaps.

Weights always sum to one, so they are the prior probabilities of the nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from item_bank_sync.psychometrics.errors import PsychometricsError


@dataclass(frozen=True)
class Quadrature:
    """Nodes (ability values) and weights (prior probabilities, summing to one)."""

    nodes: np.ndarray
    weights: np.ndarray
    rule: str

    @property
    def log_weights(self) -> np.ndarray:
        return np.log(self.weights)

    def describe(self) -> dict[str, object]:
        return {"rule": self.rule, "points": int(self.nodes.size)}


def gauss_hermite(points: int = 41) -> Quadrature:
    """Gauss-Hermite rule for N(0, 1): ``sum(w * f(x))`` approximates ``E[f(theta)]``."""
    if not 3 <= points <= 201:
        raise PsychometricsError(f"quadrature points must be between 3 and 201, got {points}")
    nodes, weights = hermegauss(points)
    return Quadrature(nodes, weights / weights.sum(), "gauss-hermite")


def rectangular(points: int = 61, limit: float = 6.0) -> Quadrature:
    """Equally spaced nodes on ``[-limit, limit]`` weighted by the normal density (mirt's rule)."""
    if not 3 <= points <= 501:
        raise PsychometricsError(f"quadrature points must be between 3 and 501, got {points}")
    nodes = np.linspace(-limit, limit, points)
    dens = np.exp(-0.5 * nodes**2)
    return Quadrature(nodes, dens / dens.sum(), "rectangular")

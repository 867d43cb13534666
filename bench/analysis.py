"""Psychometrics at a large body's scale, against raw costs measured in the same run (issue 19).

* **2PL calibration** (MML-EM, 61 rectangular points, SQUAREM) of 100,000 candidates x 200 items
  on one core, goal under 20 s. Beside it, the raw cost of the same number of E-step matrix
  products: each EM step's E-step is two products over the distinct response patterns
  (``patterns x items @ items x nodes`` for the posterior, ``items x patterns @ patterns x nodes``
  for the expected counts), timed here on arrays of the same shapes, as many times as the
  calibration ran E-steps. The ratio says how much the M-step, the exponentials and the
  bookkeeping cost on top of the products nothing can avoid.
* **Mantel-Haenszel DIF** for 200 items over 100,000 candidates, goal under 2 s, against one raw
  pass over the matrix (a matrix-vector product with the group indicator).

BLAS runs on one thread (``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` = 1, set before numpy
loads in this child process): the goals are per core. ``--quick``: 10,000 x 50.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

_NUMPY_ALREADY_LOADED = "numpy" in sys.modules
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402  (after the thread limits: BLAS reads them when it loads)

from bench.common import Figure  # noqa: E402
from item_bank_sync.psychometrics import dif, irt  # noqa: E402
from item_bank_sync.psychometrics.quadrature import rectangular  # noqa: E402

BENCH = "analysis"


def simulate(n: int, k: int, seed: int = 20261206) -> tuple[np.ndarray, np.ndarray]:
    """A 2PL response matrix (uint8) with slopes .6-2 and difficulties -2..2, and a focal-group flag."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.6, 2.0, k)
    b = rng.uniform(-2.0, 2.0, k)
    theta = rng.standard_normal(n)
    x = np.empty((n, k), dtype=np.uint8)
    for start in range(0, n, 10_000):                       # in slices: n x k floats at once is 160 MB
        t = theta[start:start + 10_000, None]
        x[start:start + 10_000] = rng.random((t.shape[0], k)) < 1 / (1 + np.exp(-a * (t - b)))
    return x, rng.random(n) < 0.3


def raw_estep_products(patterns: np.ndarray, nodes: int, count: int) -> float:
    """Seconds for ``count`` pairs of the E-step's two matrix products on arrays of its shapes."""
    x = patterns.astype(np.float64)
    table = np.random.default_rng(1).standard_normal((x.shape[1], nodes))
    post = np.random.default_rng(2).random((x.shape[0], nodes))
    start = time.perf_counter()
    for _ in range(count):
        x @ table
        x.T @ post
    return time.perf_counter() - start


def calibration_figures(x: np.ndarray) -> list[Figure]:
    n, k = x.shape
    ids = [f"i{j}" for j in range(k)]
    start = time.perf_counter()
    result = irt.calibrate(x, ids, "2pl", standard_errors=False, item_fit=False)
    seconds = time.perf_counter() - start
    patterns, _ = irt.compress_patterns(x.astype(np.float64))
    esteps = result.esteps                                  # every E-step the calibration ran
    raw = raw_estep_products(patterns, rectangular().nodes.size, esteps)
    note = (f"converged={result.converged}, {result.iterations} EM steps, {patterns.shape[0]:,} distinct "
            f"patterns, max change {result.max_change:.1e}"
            + ("; numpy was loaded before the thread limit" if _NUMPY_ALREADY_LOADED else ""))
    return [Figure(BENCH, f"2PL calibration {n:,} x {k} (1 core)", seconds, "s",
                   f"{esteps} E-steps' matrix products", raw, "< 20 s", note)]


def dif_figures(x: np.ndarray, focal: np.ndarray) -> list[Figure]:
    n, k = x.shape
    times, raws = [], []
    for _ in range(3):
        start = time.perf_counter()
        dif.mantel_haenszel(x, focal)
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        x.T.astype(np.float64) @ focal.astype(np.float64)
        raws.append(time.perf_counter() - start)
    return [Figure(BENCH, f"Mantel-Haenszel DIF {k} items over {n:,} candidates", statistics.median(times), "s",
                   "one matrix-vector pass", statistics.median(raws), "< 2 s")]


def run(quick: bool = False) -> list[Figure]:
    n, k = (10_000, 50) if quick else (100_000, 200)
    x, focal = simulate(n, k)
    return calibration_figures(x) + dif_figures(x, focal)

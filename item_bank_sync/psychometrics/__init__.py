"""Psychometrics a certification body can defend (ISO/IEC 17024 9.3): IRT, equating, DIF, decisions.

Pure numpy/scipy functions, each checked against published results of the standard software
(R ltm, mirt, equate, difR; Kolen & Brennan's textbook examples); see docs/PSYCHOMETRICS.md.

- :mod:`.quadrature`: Gauss-Hermite and rectangular quadrature for a N(0, 1) latent trait.
- :mod:`.irt`: Rasch, 1PL and 2PL calibration by marginal maximum likelihood (EM), EAP/MAP scores,
  test information, conditional SEM, S-X2 item fit; :mod:`.grm` the graded response model.
- :mod:`.equating`: random-groups and NEAT observed-score equating, IRT true-score equating.
- :mod:`.dif`: Mantel-Haenszel and logistic-regression differential item functioning.
- :mod:`.decision`: decision consistency and accuracy at a cut score.
- :mod:`.assembly`: IRT-parallel forms (test information within a tolerance of a target).
"""

from item_bank_sync.psychometrics.errors import PsychometricsError

__all__ = ["PsychometricsError"]

"""Classical item analysis: the statistics (``stats``), a scored 0/1 matrix from CSV
(``matrix_csv``), a form's scored attempts from ``results.db`` (``of_form``) and the
self-contained HTML report (``report``). Model-based psychometrics (IRT, DIF, equating) live in
:mod:`item_bank_sync.psychometrics`.
"""

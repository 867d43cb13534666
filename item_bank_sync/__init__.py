"""Invigil central body: item bank, forms, publishing, sync API, intake, scoring, analysis.

Subpackages by concern, each importing only those before it (tests/central/test_layers.py)::

    items/          item files in: QTI (items/qti/) and YAML, checked at the boundary
    db/             the data layer: SQLite files or PostgreSQL (--db), Alembic migrations, the
                    audit chain's store, copy/backup/restore (docs/OPERATIONS.md)
    bank/           the bank store (bank.db on SQLite): item versions, document control, media
    context.py      the data directory and what every command shares
    trust/          the body's keys and root, centres, kiosk revocations, release allow-list
    forms/          schemes, form assembly, publishing packages, QTI export
    results/        the results store (results.db): envelopes in, scoring, marking, decisions, integrity
    sync/           the sync API, its server and TLS, air-gap bundles
    analysis/       classical item analysis and its report
    psychometrics/  IRT, DIF, equating, decision consistency
    cli/            ``python -m item_bank_sync`` (``cli/main.py`` registers every command)

Each table is defined once, by its owner's ``schema.py``, on the data layer's MetaData. Later
concerns get their own subpackage and their place in that order: the certification register
(``registry/``: persons, applications, bookings, certificates, cases; beside ``forms/`` and
``results/``), and the staff application and public site (``web/``, ``portal/``; faces, like
``cli/``).
"""

__version__ = "0.1.0"

"""Recertification (ISO/IEC 17024 9.6): the scheme's rules, CPD records with audit sampling, renewal
decisions, who falls due and reminders before expiry.

::

    schema.py   tables (bank store; appended to Alembic revision bank_0009)
    rules.py    the scheme's ``recertification`` rules and the pure check of a holder against them
    common.py   a certificate with its scheme's rules
    cpd.py      CPD records (evidence sealed at rest), seeded audit samples, the auditor's verdicts
    renewal.py  where a holder stands in the cycle, and the renewal decision (new credential)
    due.py      who falls due, and reminders (mail through the body's relay, else kept for the portal)

The portal calls :func:`cpd.add`, :func:`cpd.list_for`, :func:`cpd.evidence`,
:func:`renewal.standing_for` and :func:`due.reminders_of` with the signed-in person as the actor.
"""

"""The body's registry of people and their certification path (issue 16, ISO/IEC 17024 7.1, 8, 9.2, 4.3).

One module per concept, each a small typed service API that the CLI, the staff pages and the
candidate portal call in the same way: every function takes the :class:`~.actors.Actor` who acts,
checks what that actor may do, writes, appends who/when/why to the central audit chain, and
returns plain records (dataclasses with ``to_dict``). Refusals are :mod:`.errors` exceptions
(``exam_core.errors.InvigilError``) whose message says what to do.

::

    actors.py          who acts: staff name and roles, or a candidate acting for their own person
    errors.py          NotFound, Forbidden, ConflictOfInterest, Refused
    persons.py         persons, identity photo, consents
    sealing.py         the evidence key (keys/evidence.key) and AES-GCM sealing with a bound AAD
    evidence.py        uploaded evidence documents: sniffed, limited, sealed, served by role
    applications.py    applications, applicant agreement, registrar decision, appeal lodged
    eligibility.py     the scheme's prerequisites checked against an application (pure functions)
    conflicts.py       declared relationships; ``check`` refuses a staff member acting on a related person
    accommodations.py  requested adjustments, approved (within the scheme) or refused, with expiry
"""

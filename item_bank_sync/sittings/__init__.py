"""Exam sessions, bookings and waiting lists, and the roster a session's centre receives (issue 16).

::

    schema.py    exam_sessions, bookings
    sessions.py  sessions the body plans (centre, start and window, capacity, scheme version, forms);
                 the body's booking rules (change cut-off)
    bookings.py  book, move, cancel; waiting list promoted in order; candidate id -> person
    roster.py    ``roster_for(ctx, session_id)``: what a signed roster carries

Services take the acting :class:`item_bank_sync.registry.actors.Actor` like the registry's, so the
portal, the staff pages and the CLI call the same functions.
"""

from item_bank_sync.sittings.roster import roster_for

__all__ = ["roster_for"]

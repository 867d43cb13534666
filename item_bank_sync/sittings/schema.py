"""Tables of exam sessions and their bookings (issue 16), in the bank store.

Defined once here on the shared MetaData; revision ``bank_0008`` builds the same tables.

``exam_sessions``  sittings planned by the body: centre, date and start window, capacity, scheme
                   version and forms.
``bookings``       a person's seat (``booked``), place on the waiting list (``waiting``) or a former one
                   (``cancelled``, ``moved``). ``(session_id, seat)`` is unique, so two writers that got
                   past the capacity check with the same seat cannot both commit; ``candidate_id`` is the
                   identifier the signed roster and the attempt carry (it maps an attempt back to the person).
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, Text, UniqueConstraint

from item_bank_sync.db.metadata import BANK, central_table

exam_sessions = central_table(
    "exam_sessions", BANK,
    Column("session_id", Text, primary_key=True),
    Column("centre_id", Text, nullable=False),
    Column("scheme_id", Text, nullable=False),
    Column("scheme_version", Integer, nullable=False),
    Column("forms_json", Text, nullable=False),
    Column("starts_at", Text, nullable=False),
    Column("window_minutes", Integer, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("created_by", Text, nullable=False),
)

bookings = central_table(
    "bookings", BANK,
    Column("booking_id", Text, primary_key=True),
    Column("session_id", Text, nullable=False),
    Column("person_id", Text, nullable=False),
    Column("application_id", Text, nullable=False),
    Column("candidate_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("seat", Integer),
    Column("queue_position", Integer, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("changed_at", Text),
    Column("changed_by", Text),
    Column("change_reason", Text),
    UniqueConstraint("session_id", "seat", name="bookings_session_seat"),
    UniqueConstraint("candidate_id", name="bookings_candidate"),
    Index("bookings_person", "person_id"),
)

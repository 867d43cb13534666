"""Which proctor action fits which seat state: one table, read by the server and by the page.

Why one table: an action that does not fit the attempt's state used to be accepted and recorded
(an "Approve resume" on a running kiosk was sent, acked and later counted as a second resume), and
the dashboard offered every button on every seat. ``Actions`` refuses with ``refusal`` what
``FITS`` does not list, before anything is stored or sent; each tile carries ``fitting`` of its
seat state, so the page offers only those actions. Both go through ``seat_state``.

A seat's state comes from the console's record of the attempt (``attempts.state``), refined by
what the kiosk itself reports while it is connected on that attempt (a started attempt is still
on the agreement, or paused), and by a kiosk that restarted mid-attempt and waits for a proctor
to approve the resume. Each entry of ``FITS`` lists only what the kiosk accepts in that state
(``kiosk/runtime.py`` and ``kiosk/session.py``): a pause before the candidate reached the first
question, or an end before the exam was started, would be refused by the kiosk anyway.
"""

from __future__ import annotations

#: Seat states, in the order a sitting goes through them.
SEAT_STATES = ("free", "admitted", "starting", "in_progress", "paused", "restart_waiting", "finished")

#: What each seat state is called on the page and in refusals ("seat A2 (Alan Turing) is ...").
STATE_WORDS = {
    "free": "free (no candidate admitted)",
    "admitted": "admitted, not started",
    "starting": "started, reading the agreement or instructions",
    "in_progress": "in progress",
    "paused": "paused",
    "restart_waiting": "waiting for a proctor to approve the resume after a kiosk restart",
    "finished": "finished (submitted or ended)",
}

#: Per-seat actions, with the words the page and refusals use for them.
ACTION_WORDS = {
    "admit": "Admit", "start": "Start", "pause": "Pause", "resume": "Resume", "approve_resume": "Approve resume",
    "extend": "Extend time", "end": "End exam", "message": "Send message", "cancel_admission": "Cancel admission",
}

#: The one table: the seat states in which each per-seat action fits.
FITS: dict[str, tuple[str, ...]] = {
    "admit": ("free",),
    "start": ("admitted",),
    "pause": ("in_progress",),
    "resume": ("paused",),
    "approve_resume": ("restart_waiting",),
    "extend": ("starting", "in_progress", "paused"),
    "end": ("starting", "in_progress", "paused"),
    "message": ("admitted", "starting", "in_progress", "paused", "restart_waiting"),
    "cancel_admission": ("admitted",),
}

#: Attempt states (console record or kiosk report) and the seat state each one means.
_SEAT_OF = {
    "waiting": "admitted", "admitted": "admitted", "agreement": "starting", "instructions": "starting",
    "in_progress": "in_progress", "paused": "paused", "submitted": "finished", "ended": "finished",
    "cancelled": "finished",
}


def seat_state(recorded: str | None, reported: str | None = None, restart_waiting: bool = False) -> str:
    """The seat state for the table.

    ``recorded``: the state of the kiosk's attempt that still holds it (``Attempts.active_on``), None
    when it holds none; ``reported``: the state the kiosk reports for that same attempt while it is
    connected, else None; ``restart_waiting``: the kiosk said in its hello that it restarted and
    waits for approval. A seat is free only when the console's record says so (admission checks that
    record too), so a kiosk's report never frees a seat.
    """
    if recorded is None:
        return "free"
    if restart_waiting and recorded in ("in_progress", "paused"):
        return "restart_waiting"
    return _SEAT_OF.get(reported or recorded, _SEAT_OF.get(recorded, "admitted"))


def fitting(state: str) -> list[str]:
    """The per-seat actions that fit ``state``, in the table's order (what the action panel offers)."""
    return [action for action, states in FITS.items() if state in states]


def fits(action: str, state: str) -> bool:
    return state in FITS.get(action, ())


def refusal(action: str, state: str, who: str) -> str:
    """The plain message for an action that does not fit: what was asked, who, why, what fits now."""
    offered = ", ".join(ACTION_WORDS[a].lower() for a in fitting(state)) or "nothing until the seat changes"
    return (f"{ACTION_WORDS.get(action, action)} does not fit: {who} is {STATE_WORDS.get(state, state)}. "
            f"Possible now: {offered}.")

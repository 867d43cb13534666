"""The live picture of the room: one tile per paired kiosk, held in memory, pushed to proctors.

Tiles are rebuilt from heartbeats and the database; nothing here needs to survive a restart
(kiosks reconnect and say hello within seconds), which is why it is not stored. ``Room`` holds the
tiles and which socket is each kiosk's current connection; ``Dashboard`` fills tiles from the
attempts, roster and alert queue and pushes tiles, events, alerts and command results to the
proctors' sockets through the one ``emit`` function it is given (it knows no socket server).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from collections.abc import Callable

from exam_core import protocol
from proctor_console.alerts import Alerts
from proctor_console.attempts import FINISHED_STATES, Attempts
from proctor_console.eventlog import StoredEvent
from proctor_console.roster import Roster
from proctor_console.seat_actions import fitting, seat_state

#: A connected kiosk without a heartbeat for this long is shown offline.
OFFLINE_AFTER_SECONDS = 20

TILE_STATUS = {
    "idle": "free", "waiting": "admitted", "admitted": "admitted", "agreement": "admitted",
    "instructions": "admitted", "in_progress": "in_progress", "paused": "paused",
    "submitted": "submitted", "ended": "submitted",
}


@dataclass
class Tile:
    kiosk_id: str
    seat: str = ""
    state: str = "idle"
    attempt_id: str | None = None
    candidate_id: str | None = None
    candidate_name: str = ""
    answered: int = 0
    total: int = 0
    remaining_seconds: int | None = None
    camera_fps: float | None = None
    connected: bool = False
    last_seen: float = 0.0
    last_seen_text: str = ""
    open_alerts: int = 0
    needs_resume_approval: bool = False
    thumbnail_version: int = 0
    attestation: str = "not_checked"  # attestation.BADGES, set by AttestationGate.show
    attestation_detail: str = ""
    #: The attempt whose candidate the tile shows (the console's record; None for a free seat)
    #: and its recorded state while it still holds the kiosk (None once finished): with the state
    #: the kiosk reports, they give the seat state the page offers actions for.
    shown_attempt_id: str | None = None
    recorded_state: str | None = None
    #: The seat label a centre admin pinned the kiosk to ('' for none).
    pinned_seat: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if not self.connected or time.time() - self.last_seen > OFFLINE_AFTER_SECONDS:
            return "offline"
        return TILE_STATUS.get(self.state, "free")

    def reported_state(self, attempt_id: str | None) -> str | None:
        """What the kiosk reports for ``attempt_id`` while connected on it, else None."""
        same = attempt_id is not None and self.attempt_id == attempt_id
        return self.state if same and self.status != "offline" else None

    @property
    def seat_state(self) -> str:
        """The seat state of ``seat_actions`` (what the action panel offers is ``fitting`` it)."""
        if self.recorded_state is None:
            return "free"
        reported = self.reported_state(self.shown_attempt_id)
        return seat_state(self.recorded_state, reported, self.needs_resume_approval)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status
        data["seat_state"] = self.seat_state
        data["actions"] = fitting(self.seat_state)
        data["thumbnail_url"] = (f"/media/thumbnails/{self.kiosk_id}.jpg?v={self.thumbnail_version}"
                                 if self.thumbnail_version else None)
        return data


class Room:
    def __init__(self) -> None:
        self.tiles: dict[str, Tile] = {}
        self.kiosk_sids: dict[str, str] = {}
        self.sid_kiosks: dict[str, str] = {}

    def tile(self, kiosk_id: str) -> Tile:
        if kiosk_id not in self.tiles:
            self.tiles[kiosk_id] = Tile(kiosk_id)
        return self.tiles[kiosk_id]

    def attach(self, kiosk_id: str, sid: str) -> str | None:
        """Record the kiosk's socket; returns the previous socket id to disconnect, if any."""
        previous = self.kiosk_sids.get(kiosk_id)
        self.kiosk_sids[kiosk_id] = sid
        self.sid_kiosks[sid] = kiosk_id
        tile = self.tile(kiosk_id)
        tile.connected, tile.last_seen = True, time.time()
        return previous if previous != sid else None

    def detach(self, sid: str) -> str | None:
        kiosk_id = self.sid_kiosks.pop(sid, None)
        if kiosk_id is not None and self.kiosk_sids.get(kiosk_id) == sid:
            del self.kiosk_sids[kiosk_id]
            self.tile(kiosk_id).connected = False
        return kiosk_id

    def snapshot(self) -> list[dict[str, Any]]:
        return [t.to_dict() for t in sorted(self.tiles.values(), key=lambda t: (t.seat or "~", t.kiosk_id))]


class CommandOutcome(Protocol):
    """What the dashboard shows of a kiosk's answer to a command (``protocol.CommandAck``)."""

    @property
    def state(self) -> str | None: ...

    @property
    def error(self) -> str | None: ...

    @property
    def reason(self) -> str | None: ...


class Dashboard:
    """Fills the room's tiles and pushes what proctors see; ``emit(event, data)`` reaches every
    logged-in proctor's ``/proctor`` socket."""

    def __init__(self, room: Room, attempts: Attempts, roster: Roster, alerts: Alerts,
                 emit: Callable[[str, Any], None], thumbnails_dir: Path,
                 pinned_seat: Callable[[str], str] = lambda kiosk_id: "") -> None:
        self.room = room
        self.attempts = attempts
        self.roster = roster
        self.alerts = alerts
        self.emit = emit
        self.thumbnails_dir = thumbnails_dir
        #: The seat label a centre admin pinned the kiosk to ('' for none: ``KioskRegistry.seat_of``).
        self.pinned_seat = pinned_seat

    # --- tiles ----------------------------------------------------------------------------------
    def load_tiles(self, kiosks: list[dict[str, Any]]) -> None:
        """A tile for every paired kiosk not revoked (``KioskRegistry.list``), at start-up."""
        for kiosk in kiosks:
            if kiosk["revoked_at"] is None:
                tile = self.room.tile(kiosk["kiosk_id"])
                tile.seat = kiosk["seat"]
                self.fill_candidate(tile)

    def fill_candidate(self, tile: Tile) -> None:
        """Put the candidate of the kiosk's current attempt (and its open alert count) on the tile,
        under the kiosk's pinned seat when it has one (else the candidate's roster seat)."""
        pinned = self.pinned_seat(tile.kiosk_id)
        attempt = self.attempts.latest_on(tile.kiosk_id)
        current = attempt is not None and attempt["state"] != "cancelled" and (
            attempt["state"] not in FINISHED_STATES or tile.attempt_id == attempt["attempt_id"])
        shown = attempt if attempt is not None and current else None
        tile.shown_attempt_id = shown["attempt_id"] if shown else None
        tile.recorded_state = shown["state"] if shown and shown["state"] not in FINISHED_STATES else None
        if attempt is not None and current:
            name, seat = self.roster.names_and_seats([attempt["candidate_id"]]).get(attempt["candidate_id"],
                                                                                      ("", ""))
            tile.attempt_id = tile.attempt_id or attempt["attempt_id"]
            tile.candidate_id, tile.candidate_name = attempt["candidate_id"], name or ""
            tile.seat = pinned or seat or tile.seat
            if not tile.connected:
                tile.state = attempt["state"]
        else:
            tile.candidate_id, tile.candidate_name = None, ""
            tile.seat = pinned or ("" if tile.seat == tile.pinned_seat else tile.seat)  # unpinned: no label
        tile.pinned_seat = pinned
        self.count_open_alerts(tile)

    def count_open_alerts(self, tile: Tile) -> None:
        """Open alerts of the tile's own attempt and of the kiosk itself: an alert raised during an
        earlier candidate's sitting stays in the queue under that candidate's name, never on the
        tile of the next one."""
        tile.open_alerts = self.alerts.count_open(tile.kiosk_id, tile.shown_attempt_id)

    def reported_state(self, kiosk_id: str, attempt_id: str) -> str | None:
        """The state the kiosk reports for this attempt while connected on it (``Tile.reported_state``)."""
        tile = self.room.tiles.get(kiosk_id)
        return tile.reported_state(attempt_id) if tile else None

    def restart_waiting(self, kiosk_id: str) -> bool:
        """True when the kiosk restarted mid-attempt and waits for a proctor (its hello said so)."""
        tile = self.room.tiles.get(kiosk_id)
        return bool(tile and tile.needs_resume_approval)

    def resume_approved(self, kiosk_id: str) -> None:
        """A proctor approved the resume: the seat no longer waits (a kiosk still waiting says so
        again in its next hello, and the command is re-sent to it then)."""
        tile = self.room.tiles.get(kiosk_id)
        if tile is not None:
            tile.needs_resume_approval = False
            self.push_tile(kiosk_id)

    def named(self, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Alerts with whose attempt each one is: candidate id, name and seat (empty for an alert
        about the kiosk itself), so a card never leans on what the kiosk's tile shows now."""
        owners = self.attempts.candidates_of([a["attempt_id"] for a in alerts if a["attempt_id"]])
        people = self.roster.names_and_seats(list(owners.values()))
        for alert in alerts:
            candidate_id = owners.get(alert["attempt_id"] or "")
            name, seat = people.get(candidate_id or "", ("", ""))
            alert.update(candidate_id=candidate_id, candidate_name=name, seat=seat)
        return alerts

    def refresh_tile(self, kiosk_id: str) -> None:
        self.fill_candidate(self.room.tile(kiosk_id))
        self.push_tile(kiosk_id)

    def push_tile(self, kiosk_id: str) -> None:
        self.emit(protocol.PROCTOR_KIOSK, self.room.tile(kiosk_id).to_dict())

    def save_thumbnail(self, kiosk_id: str, jpeg: bytes) -> None:
        """Keep the kiosk's latest webcam thumbnail (replaced atomically; purged by retention)."""
        path = self.thumbnails_dir / f"{kiosk_id}.jpg"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(jpeg)
        tmp.replace(path)
        self.room.tile(kiosk_id).thumbnail_version += 1

    def snapshot(self) -> dict[str, Any]:
        """Everything a dashboard shows when its socket connects: the tiles and the open alerts."""
        return {"tiles": self.room.snapshot(), "alerts": self.named(self.alerts.open_alerts())}

    # --- events, alerts, commands ---------------------------------------------------------------
    def relay_event(self, stored: StoredEvent) -> None:
        event = stored.event
        body = {k: v for k, v in event.to_dict().items() if k != "evidence"}
        body["snapshot_url"] = f"/media/snapshots/{stored.snapshot}" if stored.snapshot else None
        body["relayed"] = time.time()
        self.emit(protocol.PROCTOR_EVENT, body)
        if stored.alert_id is not None:
            self.push_alert(stored.alert_id)

    def push_alert(self, alert_id: int) -> None:
        alert = self.alerts.get(alert_id)
        if alert is not None:
            self.emit(protocol.PROCTOR_ALERT, self.named([alert])[0])
            self.count_open_alerts(self.room.tile(alert["kiosk_id"]))  # an alert changes no candidate
            self.push_tile(alert["kiosk_id"])

    def after_command(self, kiosk_id: str, command: dict[str, Any], ack: CommandOutcome) -> None:
        """A kiosk answered a command: tell the proctors, and show the state it reports."""
        self.emit(protocol.PROCTOR_COMMAND, {**command, "kiosk_state": ack.state, "error": ack.error,
                                             "reason": ack.reason})
        tile = self.room.tile(kiosk_id)
        if ack.state:
            tile.state = ack.state
        if command.get("type") == "resume_approved" and ack.error is None:
            tile.needs_resume_approval = False
        if command.get("type") == "cancel_admission" and ack.error is None:
            # The kiosk forgot it: the seat is free, not finished, and shows no progress of it.
            tile.attempt_id, tile.answered, tile.total, tile.remaining_seconds = None, 0, 0, None
        self.fill_candidate(tile)
        self.push_tile(kiosk_id)

"""The live picture of the room: one tile per paired kiosk, held in memory, pushed to proctors.

Tiles are rebuilt from heartbeats and the database; nothing here needs to survive a restart
(kiosks reconnect and say hello within seconds), which is why it is not stored.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

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
    attestation: str = "not_checked"  # attestation_policy.BADGES, set by AttestationGate.show
    attestation_detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if not self.connected or time.time() - self.last_seen > OFFLINE_AFTER_SECONDS:
            return "offline"
        return TILE_STATUS.get(self.state, "free")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status
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

"""A room of simulated kiosks on a real console, for the dashboard's tests and its screenshot.

Forty ``simulators.kiosk.SimKiosk`` clients pair with the running console over HTTPS and keep its
``/kiosk`` link busy as kiosks do (hello, a heartbeat every few seconds with progress, time left
and a webcam thumbnail, events that raise alerts); a proctor's ``ProctorSocket`` admits and
starts candidates, so every seat reaches its state through the real commands and acks. Seats are
``A1`` .. ``E8`` of a 40-candidate roster; kiosks are admitted in shuffled order, so the
dashboard's seat order is not the order kiosks arrived in.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
from skimage import data as skimage_data

from exam_core import protocol
from exam_core.jsonio import b64e
from proctor_console import services
from proctor_console.context import ConsoleContext
from simulators.kiosk import SimKiosk
from simulators.proctor import ProctorSocket
from tests.support.console_world import ADMIN, RunningConsole, cli, wait_until

NAMES = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Katherine Johnson", "Edsger Dijkstra", "Barbara Liskov",
         "Donald Knuth", "Frances Allen", "John Backus", "Margaret Hamilton", "Tim Berners-Lee", "Radia Perlman",
         "Ken Thompson", "Dennis Ritchie", "Niklaus Wirth", "Hedy Lamarr", "Claude Shannon", "Annie Easley",
         "Tony Hoare", "Shafi Goldwasser", "Leslie Lamport", "Jean Sammet", "Vint Cerf", "Adele Goldberg",
         "John McCarthy", "Karen Spärck Jones", "Alan Kay", "Sophie Wilson", "Bjarne Stroustrup", "Lynn Conway",
         "Guido van Rossum", "Mary Allen Wilkes", "Brian Kernighan", "Evelyn Boyd Granville", "Robin Milner",
         "Dorothy Vaughan", "Fran Bilas", "Kathleen Booth", "Charles Babbage", "Joan Clarke")
SEATS = tuple(f"{row}{n}" for row in "ABCDE" for n in range(1, 9))
#: The release measurement the room's kiosks attest (on the allow-list: "build passed").
RELEASED = hashlib.sha256(b"room: released build").hexdigest()
#: Seats whose candidate is admitted but not started.
ADMITTED = ("B3", "C6", "D2", "E6")
#: Accommodations of a few candidates (the session report lists them per candidate).
ACCOMMODATIONS = {"r-02": '{""extra_time_percent"": 25}', "r-05": '{""large_text"": true, ""zoom_percent"": 150}'}


def roster_csv() -> str:
    """Forty candidates of ``scheme-a`` in seats A1..E8, ids ``r-01``..``r-40``."""
    rows = ["candidate_id,name,scheme,seat,accommodations"]
    for i, (name, seat) in enumerate(zip(NAMES, SEATS), start=1):
        cid = f"r-{i:02d}"
        rows.append(f'{cid},{name},scheme-a,{seat},"{ACCOMMODATIONS.get(cid, "")}"')
    return "\n".join(rows) + "\n"


def thumbnail_jpeg(seed: int) -> str:
    """A real photograph (scikit-image's astronaut, shifted per seat) as a kiosk camera would send it."""
    image = skimage_data.astronaut()
    x = (seed * 37) % 200
    frame = cv2.cvtColor(cv2.resize(image[40:440, x:x + 300], (160, 120)), cv2.COLOR_RGB2BGR)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return b64e(jpeg.tobytes())


@dataclass
class Seat:
    kiosk: SimKiosk
    candidate_id: str | None = None
    name: str = ""
    seat: str = ""
    answered: int = 0
    remaining: int = 3600
    beats: bool = True  # False: the kiosk went quiet (offline on the dashboard)


@dataclass
class Room:
    """The running console, its proctor socket and the seats (kiosk id -> ``Seat``)."""

    console: RunningConsole
    proctor: ProctorSocket
    csrf: str
    seats: dict[str, Seat] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def act(self, **payload: Any) -> dict[str, Any]:
        return self.proctor.call("action", {"csrf": self.csrf, **payload}, namespace=protocol.PROCTOR_NAMESPACE,
                                 timeout=30)

    def by_candidate(self, candidate_id: str) -> Seat:
        return next(s for s in self.seats.values() if s.candidate_id == candidate_id)

    def by_state(self, state: str) -> list[Seat]:
        """Seats whose connected kiosk is in ``state``, in seat order (the restarted one excluded)."""
        return sorted((s for s in self.seats.values() if s.kiosk.state == state and s.candidate_id and s.beats
                       and not s.kiosk.needs_resume_approval), key=lambda s: s.seat)

    def beat(self, seat: Seat) -> None:
        kiosk = seat.kiosk
        if kiosk.state == "in_progress":
            seat.remaining = max(0, seat.remaining - 5)
        kiosk.heartbeat(progress={"answered": seat.answered, "total": 40}, camera_fps=14.0,
                        remaining_seconds=seat.remaining if seat.candidate_id else None)

    def heartbeats(self) -> None:
        """Every kiosk that beats says it is alive every 5 s (the dashboard shows a kiosk silent for
        20 s as offline)."""
        while not self.stop.wait(5):
            for seat in list(self.seats.values()):
                if seat.beats and seat.kiosk.connected:
                    with contextlib.suppress(Exception):  # a kiosk a test disconnects meanwhile
                        self.beat(seat)

    def admit(self, seat: Seat, candidate_id: str, start: bool) -> None:
        index = int(candidate_id.split("-")[1]) - 1
        seat.candidate_id, seat.name, seat.seat = candidate_id, NAMES[index], SEATS[index]
        reply = self.act(type="admit", kiosk_id=seat.kiosk.kiosk_id, candidate_id=candidate_id, package_id="pkg-open",
                         identity_checked=True)
        assert reply["ok"], reply
        if start:
            wait_until(lambda: seat.kiosk.state == "admitted")
            assert self.act(type="start", kiosk_id=seat.kiosk.kiosk_id)["ok"]

    def alert(self, seat: Seat, type_: str, severity: str, rule: str, **evidence: Any) -> dict[str, Any]:
        thresholds = {"no_face_after_s": 5, "no_face_clear_s": 2} if rule == "no_face" else {"faces": 1, "seconds": 3}
        event = seat.kiosk.make_event(type_, severity, rule=rule, thresholds=thresholds,
                                      evidence={"measured": {"brightness": 123.58, "faces": 0 if rule == "no_face"
                                                             else 2}, **evidence})
        return seat.kiosk.send_event(event)

    def close(self) -> None:
        self.stop.set()
        for seat in self.seats.values():
            with contextlib.suppress(Exception):  # already gone
                seat.kiosk.disconnect()
        self.proctor.disconnect()


def _pair_all(console: RunningConsole, count: int) -> list[SimKiosk]:
    """``count`` kiosks paired with codes made beside the running server (as ``pair`` does), each
    attesting a released build (on the console's release allow-list)."""
    cli(console.setup.data, "release-allowlist", "add", RELEASED, "--release", "2026.11", "--by", ADMIN)
    registry = services.registry(ConsoleContext(console.setup.data))
    ids = [f"kiosk-{i:02d}" for i in range(1, count + 1)]
    random.Random(7).shuffle(ids)
    kiosks = []
    for kiosk_id in ids:
        kiosk = SimKiosk(console.url, kiosk_id, verify=False)
        kiosk.measurement = RELEASED
        kiosk.pair(registry.new_code("test")[0])
        kiosk.connect()
        kiosks.append(kiosk)
    return kiosks


def build_room(console: RunningConsole, roster_dir: Path) -> Room:
    """Forty seats: 2 free, 4 admitted, 28 in progress (10 with alerts), 2 paused, 1 waiting for
    resume approval after a restart, 1 ended by a proctor, 1 that reports it submitted, 1 offline."""
    roster = roster_dir / "room-roster.csv"
    roster.write_text(roster_csv())
    cli(console.setup.data, "roster", "import", str(roster))
    session = console.login()
    proctor, csrf, _ = console.proctor_socket(session)
    room = Room(console, proctor, csrf)
    kiosks = _pair_all(console, 40)
    candidates = [f"r-{i:02d}" for i in range(1, 39)]  # r-39 and r-40 (E7, E8) have not come
    random.Random(11).shuffle(candidates)
    for kiosk, candidate in zip(kiosks, candidates):  # the last two kiosks stay free
        room.seats[kiosk.kiosk_id] = seat = Seat(kiosk)
        room.admit(seat, candidate, start=SEATS[int(candidate[2:]) - 1] not in ADMITTED)
    for kiosk in kiosks[38:]:
        room.seats[kiosk.kiosk_id] = Seat(kiosk)
    _shape(room)
    threading.Thread(target=room.heartbeats, name="room-heartbeats", daemon=True).start()
    return room


def _shape(room: Room) -> None:
    """Bring the seats to their states through the real link, with progress and thumbnails."""
    seats = [s for s in room.seats.values() if s.candidate_id]
    seats.sort(key=lambda s: s.seat)
    rng = random.Random(3)
    for seat in seats:
        seat.answered, seat.remaining = rng.randint(3, 38), rng.randint(900, 4200)
        wanted = "admitted" if seat.seat in ADMITTED else "in_progress"
        wait_until(lambda seat=seat, wanted=wanted: seat.kiosk.state == wanted)
        if seat.seat in ADMITTED:
            seat.answered, seat.remaining = 0, 3600
    for seat in seats:
        seat.kiosk.heartbeat(progress={"answered": seat.answered, "total": 40}, camera_fps=14.0,
                             remaining_seconds=seat.remaining, thumbnail_jpeg=thumbnail_jpeg(int(seat.seat[1:]) * 5
                                                                                              + ord(seat.seat[0])))
    for seat in [s for s in seats if s.seat in ("A4", "C1")]:
        assert room.act(type="pause", kiosk_id=seat.kiosk.kiosk_id, reason="toilet break")["ok"]
    restart = next(s for s in seats if s.seat == "B6")
    restart.kiosk.disconnect()
    restart.kiosk.content_key, restart.kiosk.needs_resume_approval = None, True
    restart.kiosk.connect()
    ended = next(s for s in seats if s.seat == "E2")
    assert room.act(type="end", kiosk_id=ended.kiosk.kiosk_id, reason="candidate felt unwell")["ok"]
    submitted = next(s for s in seats if s.seat == "D5")
    submitted.kiosk.state, submitted.answered = "submitted", 40
    room.beat(submitted)
    offline = next(s for s in seats if s.seat == "C8")
    offline.beats = False
    offline.kiosk.disconnect()
    wait_until(lambda: all(s.kiosk.state == "paused" for s in seats if s.seat in ("A4", "C1")))

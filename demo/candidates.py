"""Scripted candidates: they use the kiosk's local HTTP API exactly as its page does.

The page reads a per-start token from ``/`` and sends it in ``X-Kiosk-Token``; so does this client.
What a scripted candidate answers comes from the demo's own item files (``demo/items``): each
candidate has an ability, answers an item correctly with a probability that falls with the item's
position in a difficulty ranking, and otherwise gives a plausible wrong answer of the right shape.
That gives the item analysis real variance to work on, without the kiosk ever holding a key.
"""

from __future__ import annotations

import math
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from demo.processes import DemoError, wait_for


@dataclass(frozen=True)
class ItemKey:
    """What the demo knows about one of its own items: a correct answer and a wrong one."""

    item_id: str
    response_id: str
    correct: Any
    wrong: Any


def load_item_keys(items_dir: Path) -> dict[str, ItemKey]:
    """Correct and wrong answers of every demo item (one interaction each), from the YAML files."""
    out = {}
    for path in sorted(items_dir.rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text("utf-8"))
        inter = doc["interactions"][0]
        out[doc["id"]] = ItemKey(doc["id"], inter["response"], *_answers(inter))
    return out


def _answers(inter: dict[str, Any]) -> tuple[Any, Any]:
    kind, scoring = inter["type"], inter["scoring"]
    ids = [c["id"] for c in inter.get("choices", [])] or [h["id"] for h in inter.get("hotspots", [])]
    if kind == "text_entry":
        return next(iter(scoring["mapping"])), "I do not know"
    if kind in ("match", "gap_match"):
        pairs = [key.split(" ") for key in scoring["mapping"]]
        wrong = [[a, pairs[(n + 1) % len(pairs)][1]] for n, (a, _) in enumerate(pairs)]
        return pairs, wrong
    if kind == "order":
        return list(scoring["correct"]), list(reversed(scoring["correct"]))
    if scoring["template"] == "map_response":  # multiple choice: one right, one wrong
        right = list(scoring["mapping"])
        return right, [right[0], next(i for i in ids if i not in right)]
    correct = scoring["correct"]
    return correct, next(i for i in ids if i != correct)


class KioskClient:
    """The kiosk's candidate API on 127.0.0.1 (what ``static/`` JavaScript calls)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()
        self.http.trust_env = False

    def load_page(self) -> None:
        page = self.http.get(self.base + "/", timeout=10)
        token = re.search(r'name="kiosk-token" content="([^"]+)"', page.text)
        if token is None:
            raise DemoError(f"kiosk page {self.base}/ carries no kiosk-token")
        self.http.headers["X-Kiosk-Token"] = token.group(1)

    def state(self) -> dict[str, Any]:
        return self.http.get(self.base + "/api/state", timeout=10).json()

    def connected_to_console(self) -> bool:
        return bool(self.state()["console_connected"])

    def item(self, index: int) -> dict[str, Any]:
        reply = self.http.get(f"{self.base}/api/item/{index}", timeout=10)
        if reply.status_code != 200:
            raise DemoError(f"kiosk {self.base}: item {index}: {reply.text}")
        return reply.json()

    def post(self, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self.http.post(f"{self.base}/api/{name}", json=body or {}, timeout=30)
        if reply.status_code != 200:
            raise DemoError(f"kiosk {self.base}: POST /api/{name} -> {reply.status_code} {reply.text}")
        return reply.json()

    def wait_screen(self, screen: str, timeout: float = 60) -> dict[str, Any]:
        return wait_for(lambda: (s := self.state())["screen"] == screen and s, timeout,  # type: ignore[return-value]
                        f"kiosk {self.base} to show the {screen!r} screen")


@dataclass
class Candidate:
    """One scripted candidate sitting at one kiosk."""

    candidate_id: str
    kiosk: KioskClient
    keys: dict[str, ItemKey]
    ability: float
    seed: int
    pace_s: float = 0.0
    #: Last value the kiosk acknowledged (HTTP 200 after its durable journal write), per item.
    acked: dict[str, Any] = field(default_factory=dict)

    def answer_items(self, indices: range) -> int:
        """Answer the items at ``indices`` (navigating like the page); returns how many were saved."""
        saved = 0
        for index in indices:
            rng = random.Random(f"{self.seed}-{index}")
            self.kiosk.post("navigate", {"index": index})
            view = self.kiosk.item(index)
            key = self.keys.get(view["item_id"])
            if key is None:
                raise DemoError(f"item {view['item_id']} on the form is not one of the demo's items")
            difficulty = (sum(map(ord, key.item_id)) % 7 - 3) / 2
            p_right = 1 / (1 + math.exp(-1.7 * (self.ability - difficulty)))
            value = key.correct if rng.random() < p_right else key.wrong
            self.kiosk.post("answer", {"item_id": key.item_id, "response_id": key.response_id, "value": value})
            self.acked[key.item_id] = value
            saved += 1
            if self.pace_s:
                time.sleep(self.pace_s)
        return saved

    def item_count(self) -> int:
        return len(self.kiosk.state().get("items", []))

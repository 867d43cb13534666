"""A second X client that owns the input focus and records every key it receives.

Key grabs are proven by what this client does *not* receive: xdotool injects through XTEST, the
server routes each press either to the grabbing client or to the focused window.
"""

from __future__ import annotations

import select
import threading


from Xlib import X, XK
from Xlib.display import Display

from tests.support.hit_log_server import wait_until


XK.load_keysym_group("xkb")
KEYSYM_NAMES = {value: name[3:] for name, value in vars(XK).items() if name.startswith("XK_")}


class KeyObserver:
    def __init__(self, display_name: str) -> None:
        self.display = Display(display_name)
        screen = self.display.screen()
        self.window = screen.root.create_window(0, 0, 200, 100, 0, screen.root_depth,
                                                event_mask=X.KeyPressMask | X.StructureNotifyMask)
        self.window.map()
        self.display.sync()
        self.window.set_input_focus(X.RevertToParent, X.CurrentTime)
        self.display.sync()
        self.keys: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            select.select([self.display.fileno()], [], [], 0.05)
            while self.display.pending_events():
                event = self.display.next_event()
                if event.type == X.KeyPress:
                    keysym = self.display.keycode_to_keysym(event.detail, 0)
                    self.keys.append(KEYSYM_NAMES.get(keysym, str(keysym)))

    def wait_for(self, key: str, timeout: float = 3.0) -> bool:
        return wait_until(lambda: key in self.keys, timeout)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.display.close()

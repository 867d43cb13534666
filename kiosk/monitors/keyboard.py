"""The pynput side of input monitoring: X (or other platform) events turned into InputMonitor tokens.

pynput is imported only when listening starts: without a display it raises ImportError at import
time, and a kiosk with no display (tests, camera-check) must still load the monitors.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from kiosk.monitors.clock import Clock
from kiosk.monitors.input import InputMonitor

#: pynput Key names that differ from the policy's token names.
_RENAMES = {
    "ctrl_l": "ctrl", "ctrl_r": "ctrl", "alt_l": "alt", "alt_r": "alt", "shift_l": "shift",
    "shift_r": "shift", "cmd": "super", "cmd_l": "super", "cmd_r": "super", "alt_gr": "alt_gr",
}


#: How long a listener may take to connect to the X server before monitoring is declared degraded.
READY_TIMEOUT_S = 10.0


def _wait_ready(listener: Any, timeout: float) -> bool:
    """pynput's ``wait()`` blocks forever if the listener thread dies before it is ready (as it
    can when its X connection fails); this waits for readiness, thread death or the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if getattr(listener, "_ready", True):
            return True
        if not listener.is_alive():
            return bool(getattr(listener, "_ready", False))
        time.sleep(0.01)
    return False


def key_token(monitor: InputMonitor, key: Any) -> str:
    """The token for a pynput key: a special key's name, else the character (only inside a command).

    pynput gives ``Key`` members for special keys and ``KeyCode`` (with ``char`` and ``vk``) for
    the rest; a KeyCode's character is handed over only so ctrl+p and the like can be matched.
    """
    name = getattr(key, "name", None)
    if name is not None:
        return _RENAMES.get(name, name)
    char = getattr(key, "char", None)
    vk = getattr(key, "vk", None)
    if char is None and vk is not None and 0xFFBE <= vk <= 0xFFD5:   # X keysyms F1..F24
        return f"f{vk - 0xFFBE + 1}"
    if char is None and vk == 0xFF61:                                   # X keysym Print
        return "print_screen"
    return monitor.token_for(None, char)


def key_id(key: Any, keycode: int | None) -> int | None:
    """An opaque number for the physical key, to pair a press with its release.

    The X keycode when the listener saw one (it names the key, not the character: 'a' and 'A'
    are one key); else the virtual key code or the key's name. Held in memory only while the key
    is down; never emitted.
    """
    if keycode is not None:
        return int(keycode)
    vk = getattr(key, "vk", None) or getattr(getattr(key, "value", None), "vk", None)
    if vk is not None:
        return int(vk) + 1_000_000
    return None


class PynputListeners:
    """A keyboard and a mouse listener feeding one InputMonitor (pointer events only reset idle)."""

    def __init__(self, monitor: InputMonitor, clock: Clock, pointer: bool = True) -> None:
        self.monitor = monitor
        self.clock = clock
        self.pointer = pointer
        self._listeners: list[Any] = []
        self._keycode: int | None = None

    def start(self) -> None:
        from pynput import keyboard, mouse  # imported here: needs a display; see module doc

        listener = keyboard.Listener(on_press=self._press, on_release=self._release)
        self._see_keycodes(listener)
        self._listeners.append(listener)
        if self.pointer:
            self._listeners.append(mouse.Listener(on_move=self._pointer, on_click=self._pointer,
                                                  on_scroll=self._pointer))
        for listener in self._listeners:
            listener.daemon = True
            listener.start()
        for listener in self._listeners:
            if not _wait_ready(listener, READY_TIMEOUT_S):
                self.stop(timeout=1.0)
                raise RuntimeError(f"pynput {type(listener).__module__} listener did not start "
                                   f"within {READY_TIMEOUT_S:.0f} s")

    def stop(self, timeout: float = 5.0) -> None:
        for listener in self._listeners:
            if not getattr(listener, "_ready", True):
                continue    # never connected: pynput's stop() would wait for it forever
            listener.stop()
            _wake_xrecord(listener)
        for listener in self._listeners:
            listener.join(timeout)   # their threads still talk to the X server while closing
        self._listeners.clear()

    def _see_keycodes(self, listener: Any) -> None:
        """Keep the X keycode of the event being handled (pynput's Xorg backend drops it).

        pynput converts the event to a character in ``_handle_message`` and calls our callback
        from there, synchronously; wrapping it lets the callback know the physical key. Other
        backends have no such method and fall back to virtual key codes.
        """
        original = getattr(listener, "_handle_message", None)
        if original is None:
            return

        def handle(display: Any, event: Any, injected: bool) -> None:
            self._keycode = getattr(event, "detail", None)
            try:
                original(display, event, injected)
            finally:
                self._keycode = None

        listener._handle_message = handle

    def _press(self, key: Any, injected: bool = False) -> None:
        self.monitor.key_down(key_token(self.monitor, key), self.clock.monotonic(), injected,
                              key_id=key_id(key, self._keycode))

    def _release(self, key: Any, injected: bool = False) -> None:
        self.monitor.key_up(key_token(self.monitor, key), self.clock.monotonic(),
                            key_id=key_id(key, self._keycode))

    def _pointer(self, *args: Any) -> None:
        self.monitor.pointer_activity(self.clock.monotonic())


def _wake_xrecord(listener: Any) -> None:
    """Make an Xorg listener's thread return now rather than at the next input event.

    pynput 1.8 sends XRecordDisableContext on the very connection that is blocked in
    XRecordEnableContext, where it waits unflushed until another event arrives; X expects it on a
    second connection. pynput keeps one (``_display_stop``); sending it there ends the thread.
    Other backends lack these attributes and are left alone.
    """
    display = getattr(listener, "_display_stop", None)
    context = getattr(listener, "_context", None)
    if display is None or context is None:
        return
    with contextlib.suppress(Exception):  # the listener may have closed the connection already
        display.record_disable_context(context)
        display.flush()

"""Fixtures shared by every test area: free ports, an Xvfb display, headless Chromium, live servers.

Tests use real parts (see the README's developer notes): servers listen on 127.0.0.1 in their own
process, pages run in Debian's Chromium through Playwright, input events are real X events on Xvfb.
A tool that is missing makes its tests *skip* on a developer's machine, with the command that
installs it, but *fail* in CI (``CI=true``), where a skipped suite would pass silently.

Only fixtures live here. What they are built from (free ports, live server processes, the
missing-tool rule) is in tests/support/, which test modules import; no module imports a conftest.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.live_server import LiveServer, launch
from tests.support.ports import find_free_port, wait_for_port
from tests.support.tools import missing_tool

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # the sandbox cannot start as root (CI runs as root)
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # no calls home: the machine has no network but loopback
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
XVFB_SCREEN = "1280x1024x24"


@pytest.fixture
def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a server the test starts itself."""
    return find_free_port()


def _start_xvfb(display: int) -> subprocess.Popen | None:
    """Start Xvfb on ``:display``; None if that display was taken. Returns once it accepts clients.

    ``-displayfd`` makes Xvfb write the display number only when it is ready, so no polling.
    """
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", f":{display}", "-screen", "0", XVFB_SCREEN, "-nolisten", "tcp", "-noreset",
         "-displayfd", str(write_fd)],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as ready:
        # Empty when Xvfb exits (display in use); nothing after 15 s means it hangs.
        announced = ready.readline().strip() if select.select([ready], [], [], 15)[0] else ""
    if announced == str(display):
        return process
    process.kill()
    process.wait()
    return None


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """A private X display (``":N"``) served by Xvfb for the whole session, DISPLAY set to it.

    Starts ``Xvfb :N -screen 0 1280x1024x24 -nolisten tcp -noreset`` (no reset when the last
    client leaves, so a listener never meets a restarting server) on the first free N from 90 (lock
    files are checked, and a display taken meanwhile by another process is simply skipped),
    sets ``os.environ["DISPLAY"]`` for the session (restored afterwards) so pynput, xdotool and
    Chromium started by the tests use it, and stops the server at the end. Skips when Xvfb is not
    installed, except in CI where that fails.
    """
    if shutil.which("Xvfb") is None:
        missing_tool("Xvfb", "apt-get install xvfb")
    process = None
    for display in range(90, 190):
        if Path(f"/tmp/.X{display}-lock").exists() or Path(f"/tmp/.X11-unix/X{display}").exists():
            continue
        process = _start_xvfb(display)
        if process is not None:
            break
    if process is None:
        pytest.fail("no free X display between :90 and :189 for Xvfb", pytrace=False)
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = f":{display}"
    try:
        yield f":{display}"
    finally:
        if previous is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _Chromium:
    """One Playwright and one headless Chromium for the session, relaunched if it stopped working.

    A Chromium that crashed, was killed by a test of process cleanup, or had its contexts closed
    by a machine-wide managed policy (a lockdown test installs one for a while) would otherwise
    fail every later browser test with "Target ... has been closed", hiding which test was at
    fault. ``get()`` probes the browser with a throwaway context (a few ms) and starts afresh
    when the probe fails.
    """

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self.launches = 0

    def get(self):
        from playwright.sync_api import Error as PlaywrightError

        if self._browser is not None:
            try:
                self._browser.new_context().close()
                return self._browser
            except PlaywrightError:
                self.close()  # and start afresh below, driver included
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                         args=CHROMIUM_ARGS)
        self.launches += 1
        return self._browser

    def close(self) -> None:
        """Close the browser and stop Playwright's driver, tolerating either being dead already."""
        from playwright.sync_api import Error as PlaywrightError

        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        try:
            if browser is not None:
                browser.close()
        except PlaywrightError:
            pass
        finally:
            if playwright is not None:
                with contextlib.suppress(PlaywrightError):
                    playwright.stop()


@pytest.fixture(scope="session")
def _chromium() -> Iterator[_Chromium]:
    if not Path(CHROMIUM).exists():
        missing_tool("Chromium", "apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing_tool("Playwright", "pip install -e .[test]")
    chromium = _Chromium()
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def browser(_chromium: _Chromium):
    """Debian's Chromium (``/usr/bin/chromium``), headless, driven by Playwright.

    One browser serves the whole session (launched on first use, closed at the end; relaunched
    only if it crashed). No browser is downloaded (the machine cannot): Playwright launches the
    system Chromium with flags that keep it offline and working as root. Use ``page`` for a fresh
    tab per test. Skips when Chromium or Playwright is missing, except in CI where that fails.
    """
    return _chromium.get()


@pytest.fixture
def page(browser):
    """A new Playwright page in its own browser context (no cookies or storage shared between tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1024})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``live_server("proctor_console", "serve", "--port", "{port}")`` -> :class:`LiveServer`.

    Runs ``python -m MODULE ARGS`` (``{port}`` in an argument becomes a free port, or pass
    ``port=``) in a new process group with cwd at the repository root, waits until the port
    accepts connections on 127.0.0.1 (failing with the server's output if it exits or takes more
    than ``timeout`` seconds), and at teardown stops every server it started, SIGKILLing the
    process group if SIGTERM is not enough. ``env`` entries are added to the environment.
    """
    servers: list[LiveServer] = []

    def start(module: str, *args: str, port: int | None = None, env: dict[str, str] | None = None,
              timeout: float = 30.0) -> LiveServer:
        port = port or find_free_port()
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        log = Path(tempfile.mkstemp(prefix=f"{module}-", suffix=".log", dir=tmp_path)[1])
        server = LiveServer(module, list(args), port, launch(module, list(args), port, full_env, log), log, full_env)
        servers.append(server)
        try:
            wait_for_port(port, timeout=timeout, process=server.process)
        except (RuntimeError, TimeoutError) as exc:
            server.stop()
            pytest.fail(f"{module} did not start: {exc}\n--- server output ---\n{server.output()[-4000:]}",
                        pytrace=False)
        return server

    yield start
    for server in servers:
        server.stop()

"""Assembling a running kiosk: device, runtime, candidate UI, monitors, console link, browser.

Kept apart from the CLI so that tests and the demo can start exactly what ``kiosk run`` starts.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Callable

from exam_core.errors import InvigilError

from kiosk import storage
from kiosk.device import Device
from kiosk.journal import count_rows
from kiosk.runtime import KeyOpener, KioskRuntime

log = logging.getLogger("kiosk")
SHUTDOWN_SECONDS = 10.0  # from SIGTERM to process exit, whatever hangs (see ShutdownDeadline)
BROWSER_STOP_SECONDS = 7.0  # run_lockdown: up to 5 s for the browser to end, a kill, then restore
EXIT_FORCED = 3  # the exit status when the deadline had to end the process
NOTICE_RETENTION_KEY = "notice_retention_days"  # in the monitors file: what the notice says is kept


@dataclass
class KioskOptions:
    data_dir: str
    console_url: str | None = None
    browser: bool = True
    camera: str = "none"
    port: int = 8765
    pair_code: str | None = None
    central_cert: str | None = None
    kiosk_id: str | None = None
    policy: str | None = None
    monitors_file: str | None = None


def _paired_device(options: KioskOptions, prompt: Callable[[], str]) -> Device:
    from kiosk.link import pair
    Path(options.data_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    device = Device.load_or_create(options.data_dir, options.kiosk_id)
    if options.central_cert:
        device.install_central_certificate(Path(options.central_cert).read_bytes())
    if not device.paired:
        if not options.console_url:
            raise InvigilError("this kiosk is not paired: give --console URL (and the pairing code)")
        pair(device, options.console_url, options.pair_code or prompt())
    return device


def _monitors(options: KioskOptions, runtime: KioskRuntime) -> Any:
    """The monitor hub, or None when it cannot start here (recorded as an event, never fatal)."""
    try:
        from kiosk.monitors.config import MonitorConfig
        from kiosk.monitors.hub import MonitorHub
        raw = _monitors_json(options)
        raw.pop(NOTICE_RETENTION_KEY, None)
        raw.setdefault("camera", {})["spec"] = options.camera
        hub = MonitorHub(MonitorConfig.from_dict(raw), runtime.outbox.emit, thumbnail=lambda t: _thumbnail(runtime, t),
                         attempt_id=runtime.attempt.attempt_id if runtime.attempt else None)
        hub.start()
    except Exception as exc:  # noqa: BLE001 - the exam runs without monitors; the console is told
        runtime.outbox.add_event("monitor.unavailable", "high", rule="monitors",
                                 data={"reason": f"{type(exc).__name__}: {exc}"[:500]})
        return None

    def on_attempt(attempt_id: str | None) -> None:
        hub.set_attempt(attempt_id)
        profile = runtime.attempt.accommodations.monitor_profile if runtime.attempt else ""
        if profile:
            hub.apply_accommodation(profile, granted_by="console")
    runtime.on_attempt_change = on_attempt
    return hub


def _monitors_json(options: KioskOptions) -> dict[str, Any]:
    return json.loads(Path(options.monitors_file).read_text()) if options.monitors_file else {}


def _monitoring_setup(hub: Any, options: KioskOptions) -> Callable[[], Any]:
    """What the candidate's monitoring notice lists: the monitors that actually run.

    How long pictures are kept is the console's retention period; the kiosk cannot ask it, so the
    monitors file states it (``"notice_retention_days"``, default the console's default of 30).
    """
    from kiosk.disclosure import DEFAULT_RETENTION_DAYS, MonitoringSetup
    try:
        days = int(_monitors_json(options).get(NOTICE_RETENTION_KEY, DEFAULT_RETENTION_DAYS))
    except (OSError, ValueError, TypeError):
        days = DEFAULT_RETENTION_DAYS

    def setup() -> MonitoringSetup:
        if hub is None:
            return MonitoringSetup(retention_days=days)
        return MonitoringSetup(camera=hub.camera is not None, keyboard=hub.keyboard is not None,
                               retention_days=days, profile=hub.profile.name if hub.profile else "")
    return setup


def _thumbnail(runtime: KioskRuntime, thumbnail: dict[str, Any]) -> None:
    """Keep the latest small webcam JPEG for the next heartbeat (the dashboard tile); never stored."""
    from exam_core.protocol import MAX_IMAGE_BYTES
    jpeg = (thumbnail.get("snapshot") or {}).get("jpeg_b64")
    if isinstance(jpeg, str) and len(jpeg) * 3 // 4 <= MAX_IMAGE_BYTES:
        runtime.thumbnail_b64 = jpeg


def _attestation(device: Device, policy_file: str | None) -> Callable[[bytes], bytes]:
    """``nonce -> signed attestation`` (hardening.attestation), or empty bytes if it cannot measure.

    The measurement (hashing every code file) is made once here at start; each console connection
    then costs one signature over that connection's login challenge."""
    try:
        from hardening.attestation import make_attestation, measure
        from hardening.policy import load_policy
        measurement = measure(load_policy(policy_file))
    except Exception as exc:  # noqa: BLE001 - reported as missing attestation, the console decides
        log.warning("attestation unavailable: %s", exc)
        return lambda nonce: b""

    def make(nonce: bytes) -> bytes:
        try:
            return make_attestation(device.signing_key, measurement, nonce, device.kiosk_id)
        except Exception as exc:  # noqa: BLE001 - as above
            log.warning("attestation unavailable: %s", exc)
            return b""
    return make


def build_runtime(options: KioskOptions, device: Device) -> KioskRuntime:
    return KioskRuntime(options.data_dir, device.kiosk_id, KeyOpener(device.unwrap, device.decrypt), device,
                        attester=_attestation(device, options.policy))


def run_kiosk(options: KioskOptions, prompt: Callable[[], str]) -> int:
    """``kiosk run``; returns the process exit code."""
    from kiosk.link import ConsoleLink
    from kiosk.webapp import create_app, make_ui_server
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        device = _paired_device(options, prompt)
    except InvigilError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    runtime = build_runtime(options, device)
    hub = _monitors(options, runtime)
    page_signal = hub.page.report if hub is not None else None
    server = make_ui_server(create_app(runtime, page_signal, _monitoring_setup(hub, options)), options.port)
    url = f"http://127.0.0.1:{server.server_port}/"
    threading.Thread(target=server.serve_forever, name="kiosk-ui", daemon=True).start()
    runtime.run_ticker()
    console_url = (device.pairing or {}).get("console_url") or options.console_url
    if not console_url:  # a pairing records it; else --console must give it
        print("kiosk: no console URL: give --console URL", file=sys.stderr)
        return 2
    link = ConsoleLink(runtime, device, console_url,
                       camera_fps=lambda: hub.status()["camera_fps"] if hub is not None else None)
    runtime.outbox.on_added = link.wake
    link.start()
    print(f"kiosk {device.kiosk_id}: candidate UI on {url}, console {console_url}", flush=True)
    stopping = threading.Event()
    browser = _start_browser(url, options, runtime, stopping) if options.browser else None
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: _stop(stopping, browser))
    stopping.wait()
    deadline = ShutdownDeadline(SHUTDOWN_SECONDS)
    if browser is not None:
        deadline.step("browser")  # the browser closes and the lockdown is undone first
        browser[1].join(min(BROWSER_STOP_SECONDS, deadline.remaining()))
    deadline.step("console link")
    link.stop()
    deadline.step("runtime")
    runtime.stop()
    if hub is not None:
        deadline.step("monitors")
        hub.stop()
    deadline.step("candidate UI server")
    server.shutdown(timeout=min(2.0, deadline.remaining()))
    deadline.step("interpreter exit")  # non-daemon threads (a command worker) are joined here
    return 0


class ShutdownDeadline:
    """Ends the process ``seconds`` after SIGTERM if the graceful steps have not finished by then.

    Why a forced exit is acceptable: everything the kiosk has acknowledged is already durable (the
    journal and the outbox commit with synchronous=FULL before they answer), so a graceful step
    that hangs (a console that never answers, a stuck camera, a browser that will not die) only
    delays what systemd or the proctor asked for. The step that overran is logged; a lockdown left
    half-undone is restored from its journal at the next start (hardening.lockdown).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.current = "signal"
        threading.Thread(target=self._watch, name="kiosk-shutdown-deadline", daemon=True).start()

    def step(self, name: str) -> None:
        log.info("shutdown: %s", name)
        self.current = name

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def _watch(self) -> None:
        time.sleep(self.remaining())
        log.error("shutdown overran %.0f s in step '%s': exiting now (acknowledged data is already on disk)",
                  self.seconds, self.current)
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_FORCED)


def _start_browser(url: str, options: KioskOptions, runtime: KioskRuntime,
                   stopping: threading.Event) -> tuple[Any, threading.Thread]:
    """The locked-down browser (hardening.lockdown, kiosk.browser) in a thread, reopened if it exits
    while the kiosk runs and restarted in the screen-reader profile when an admitted candidate's
    accommodations grant it (or without, for the next one).

    ``stopping`` ends it: the lockdown then closes the browser and undoes every change (policy
    file, key grabs, profile, screen reader). The kiosk waits for that before it exits, so no exam
    browser, screen reader or managed policy outlives the kiosk that served it.
    """
    from kiosk.browser import LockedBrowser
    browser = LockedBrowser(url, options.policy, runtime, stopping)
    before = runtime.on_attempt_change

    def attempt_changed(attempt_id: str | None) -> None:
        before(attempt_id)
        browser.attempt_changed()
    runtime.on_attempt_change = attempt_changed
    thread = threading.Thread(target=browser.run, name="kiosk-browser", daemon=True)
    thread.start()
    return browser, thread


def _stop(stopping: threading.Event, browser: tuple[Any, threading.Thread] | None) -> None:
    stopping.set()
    if browser is not None:
        browser[0].stop()


def kiosk_status(data_dir: str) -> dict[str, Any]:
    """``kiosk status``: what can be known without the attempt's key."""
    directory = Path(data_dir)
    info: dict[str, Any] = {"data_dir": str(directory.resolve())}
    device_file = directory / "device" / "kiosk.json"
    info["kiosk_id"] = json.loads(device_file.read_text())["kiosk_id"] if device_file.exists() else None
    pairing = directory / "device" / "pairing.json"
    info["paired"] = pairing.exists()
    if pairing.exists():
        p = json.loads(pairing.read_text())
        info.update(console_url=p.get("console_url"), console_id=p.get("console_id"), centre_id=p.get("centre_id"))
    db = storage.open_kiosk_db(directory)
    try:
        attempt = storage.get_state(db, "attempt")
        admission = storage.get_state(db, "admission", {}) or {}
        info["attempt"] = None if attempt is None else {
            "attempt_id": attempt["attempt_id"], "candidate_id": attempt["candidate_id"],
            "seat": attempt["seat"], "package_id": attempt["package_id"],
            "keys_released": bool(admission.get("keys_released")),
            "identity_confirmed": bool(admission.get("identity_confirmed")),
            "submitted": bool(admission.get("receipt")),
            "receipt_code": (admission.get("receipt") or {}).get("receipt_code"),
            "journal_rows": count_rows(db, attempt["attempt_id"]),
            "restart_needs_approval": bool(admission.get("keys_released") and not admission.get("receipt")),
        }
        from kiosk.outbox import Outbox
        info["outbox"] = Outbox(db, info["kiosk_id"] or "unknown").count()
    finally:
        db.conn.close()
    info["packages_cached"] = sorted(p.stem for p in (directory / "packages").glob("*.pkg"))
    return info

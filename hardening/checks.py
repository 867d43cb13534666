"""The preflight checks: facts from a ``Host`` judged against the policy.

Each check returns a ``CheckResult`` with its evidence, the facts an invigilator or an auditor
needs to understand the verdict without re-running it. Checks never raise: a check that cannot
gather its facts fails (fail closed) and says why.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import asdict, dataclass, field
from typing import Any
from collections.abc import Callable

from hardening.clock import ClockError, measure_offset
from hardening.host import Host
from hardening.policy import Policy

PASS, WARN, FAIL = "pass", "warn", "fail"
_RANK = {PASS: 0, WARN: 1, FAIL: 2}


@dataclass
class CheckResult:
    name: str
    status: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def worst(*statuses: str) -> str:
    return max(statuses, key=_RANK.__getitem__, default=PASS)


def check_virtualisation(host: Host, policy: Policy) -> CheckResult:
    rules = policy["virtualisation"]
    facts = host.virtualisation()
    findings = []
    if facts.detect_virt_vm not in (None, "none"):
        findings.append(f"systemd-detect-virt --vm: {facts.detect_virt_vm}")
    markers = [m.lower() for m in rules["dmi_markers"]]
    for key, value in facts.dmi.items():
        hit = next((m for m in markers if m in value.lower()), None)
        if hit:
            findings.append(f"DMI {key}={value!r} matches {hit!r}")
    if facts.cpu_hypervisor_flag:
        findings.append("CPU reports the 'hypervisor' flag in /proc/cpuinfo")
    prefixes = {prefix.lower(): vendor for prefix, vendor in rules["mac_prefixes"].items()}
    for interface in host.interfaces():
        vendor = prefixes.get((interface.mac or "")[:8].lower())
        if vendor:
            findings.append(f"interface {interface.name} MAC {interface.mac} is a {vendor} prefix")
    status = FAIL if findings else PASS
    summary = "; ".join(findings) or "no hypervisor found"
    if not findings and facts.detect_virt_container not in (None, "none"):
        status = rules["container"]
        summary = f"container: {facts.detect_virt_container}"
    evidence = {"summary": summary, "findings": findings, "detect_virt_vm": facts.detect_virt_vm,
                "detect_virt_container": facts.detect_virt_container, "dmi": facts.dmi,
                "cpu_hypervisor_flag": facts.cpu_hypervisor_flag}
    return CheckResult("virtualisation", status, evidence)


def check_processes(host: Host, policy: Policy) -> CheckResult:
    rules = policy["processes"]
    names = {name.lower(): category for name, category in rules["names"].items()}
    markers = rules["cmdline_markers"]
    processes = host.processes()
    found: list[dict[str, Any]] = []
    unreadable = 0
    for proc in processes:
        candidates = {proc.comm.lower(), os.path.basename(proc.argv[0]).lower() if proc.argv else "",
                      os.path.basename(proc.exe or "").removesuffix(" (deleted)").lower()}
        reasons = [f"name {n!r} ({names[n]})" for n in sorted(candidates & names.keys())]
        command_line = " ".join(proc.argv)
        reasons += [f"command line contains {m!r}" for m in markers if m in command_line]
        if rules["sha256"]:
            digest = host.executable_sha256(proc)
            unreadable += digest is None
            if digest in rules["sha256"]:
                reasons.append(f"executable SHA-256 {digest} ({rules['sha256'][digest]})")
        if reasons:
            found.append({"pid": proc.pid, "comm": proc.comm, "exe": proc.exe, "reasons": reasons})
    summary = "; ".join(f"pid {f['pid']} {f['comm']}: {', '.join(f['reasons'])}" for f in found)
    evidence = {"summary": summary or f"none of {len(processes)} processes is forbidden",
                "processes_scanned": len(processes), "forbidden": found,
                "hashes_checked": bool(rules["sha256"]), "executables_unreadable": unreadable}
    return CheckResult("processes", FAIL if found else PASS, evidence)


def check_displays(host: Host, policy: Policy) -> CheckResult:
    rules = policy["displays"]
    facts = host.displays()
    connected = sorted(name for name, status in facts.drm_connectors.items() if status == "connected")
    count = max(len(connected), facts.xrandr_monitors or 0)
    status = rules["none_found"] if count == 0 else (FAIL if count > rules["max"] else PASS)
    summary = f"{count} display(s) (DRM connected: {', '.join(connected) or 'none'}; " \
              f"xrandr: {facts.xrandr_monitors if facts.xrandr_monitors is not None else 'n/a'})"
    evidence = {"summary": summary, "count": count, "max": rules["max"], "drm_connected": connected,
                "drm_connectors": facts.drm_connectors, "xrandr_monitors": facts.xrandr_monitors}
    return CheckResult("displays", status, evidence)


def check_cameras(host: Host, policy: Policy) -> CheckResult:
    rules = policy["cameras"]
    markers = [m.lower() for m in rules["virtual_markers"]]
    devices = host.video_devices()
    virtual = {node: name for node, name in devices.items() if any(m in name.lower() for m in markers)}
    real = {node: name for node, name in devices.items() if node not in virtual}
    status = FAIL if virtual else (PASS if real else rules["missing"])
    summary = (f"virtual: {', '.join(f'{k} ({v})' for k, v in virtual.items())}" if virtual else
               f"real: {', '.join(f'{k} ({v})' for k, v in real.items())}" if real else "no camera found")
    return CheckResult("cameras", status, {"summary": summary, "virtual": virtual, "real": real})


def check_tracer(host: Host, policy: Policy) -> CheckResult:
    tracer = host.tracer_pid()
    preload = host.preload_environment()
    status = worst(FAIL if tracer else PASS, policy["tracer"]["preload"] if preload else PASS)
    summary = (f"traced by pid {tracer}" if tracer else "not traced") + \
        (f"; code injection: {', '.join(preload)}" if preload else "")
    return CheckResult("tracer", status, {"summary": summary, "tracer_pid": tracer, "preload": preload})


def check_clock_skew(host: Host, policy: Policy, console: str | None = None,
                     cafile: str | None = None, context: ssl.SSLContext | None = None) -> CheckResult:
    rules = policy["clock_skew"]
    if not console:
        return CheckResult("clock_skew", rules["unmeasured"],
                           {"summary": "not measured: no console URL given", "measured": False})
    try:
        sample = measure_offset(console, rules["timeout_seconds"], cafile, context)
    except ClockError as exc:
        return CheckResult("clock_skew", rules["unmeasured"],
                           {"summary": f"not measured: {exc}", "measured": False})
    # The true offset lies within +/- (rtt/2 + resolution/2) of the estimate; judge the best case
    # so network delay alone never fails a kiosk, and report the bound.
    uncertainty = sample.rtt_seconds / 2 + sample.resolution_seconds / 2
    least = max(0.0, abs(sample.offset_seconds) - uncertainty)
    status = FAIL if least > rules["fail_seconds"] else WARN if least > rules["warn_seconds"] else PASS
    summary = f"offset {sample.offset_seconds:+.3f} s +/- {uncertainty:.3f} s ({sample.source})"
    evidence = {"summary": summary, "measured": True, **sample.to_dict(), "uncertainty_seconds": uncertainty,
                "warn_seconds": rules["warn_seconds"], "fail_seconds": rules["fail_seconds"]}
    return CheckResult("clock_skew", status, evidence)


def check_network(host: Host, policy: Policy) -> CheckResult:
    rules = policy["network"]
    interfaces = host.interfaces()
    routes = host.routes()
    defaults = [r for r in routes if r.default]
    findings, status = [], PASS
    tunnels = [i.name for i in interfaces if i.name.startswith(tuple(rules["tunnel_prefixes"]))]
    if tunnels:
        findings.append(f"tunnel/VPN interfaces: {', '.join(tunnels)}")
        status = worst(status, rules["tunnel"])
    for family in ("v4", "v6"):
        family_defaults = [r for r in defaults if (":" in r.destination) == (family == "v6")]
        if len(family_defaults) > rules["max_default_routes"]:
            findings.append(f"{len(family_defaults)} IP{family} default routes via "
                            + ", ".join(f"{r.interface} ({r.gateway})" for r in family_defaults))
            status = worst(status, rules["extra_default_routes"])
    wireless = [i.name for i in interfaces if i.wireless and i.operstate == "up"]
    if wireless:
        findings.append(f"wireless interfaces up: {', '.join(wireless)}")
        status = worst(status, rules["wireless_up"])
    summary = "; ".join(findings) or \
        f"{len(interfaces)} interface(s), {len(defaults)} default route(s), no tunnel"
    evidence = {"summary": summary, "findings": findings,
                "interfaces": [{"name": i.name, "mac": i.mac, "state": i.operstate,
                                "wireless": i.wireless, "virtual": i.virtual} for i in interfaces],
                "default_routes": [{"interface": r.interface, "destination": r.destination,
                                    "gateway": r.gateway} for r in defaults]}
    return CheckResult("network", status, evidence)


def check_user(host: Host, policy: Policy) -> CheckResult:
    uid, name = host.effective_user()
    status = policy["user"]["root"] if uid == 0 else PASS
    return CheckResult("user", status, {"summary": f"running as {name} (uid {uid})", "uid": uid, "name": name})


def check_removable_storage(host: Host, policy: Policy) -> CheckResult:
    mounted = []
    for mount in host.mounts():
        device = host.block_device(mount.device)
        if device is not None and (device.removable or device.usb):
            mounted.append({"device": mount.device, "disk": device.name, "mountpoint": mount.mountpoint,
                            "fstype": mount.fstype, "removable": device.removable, "usb": device.usb})
    status = policy["removable_storage"]["mounted"] if mounted else PASS
    summary = "; ".join(f"{m['device']} on {m['mountpoint']}" for m in mounted) or "none mounted"
    return CheckResult("removable_storage", status, {"summary": summary, "mounted": mounted})


Check = Callable[..., CheckResult]
ALL_CHECKS: dict[str, Check] = {
    "virtualisation": check_virtualisation,
    "processes": check_processes,
    "displays": check_displays,
    "cameras": check_cameras,
    "tracer": check_tracer,
    "clock_skew": check_clock_skew,
    "network": check_network,
    "user": check_user,
    "removable_storage": check_removable_storage,
}

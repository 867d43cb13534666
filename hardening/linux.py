"""Linux implementation of ``hardening.host.Host``: facts from /proc, /sys and a few commands.

Every path is read below ``root`` and every command goes through ``run``, so tests can point the
host at a fixture tree and feed it recorded command output; production uses ``/`` and
``subprocess``. Reads are bounded: the kernel files are small, but a fixture or a hostile
process (a huge cmdline) must not make a preflight check allocate without limit.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Mapping, Sequence

from hardening.host import (BlockDevice, DisplayFacts, Host, Mount, NetInterface, ProcessInfo,
                            Route, VirtualisationFacts)

READ_MAX_BYTES = 64 * 1024
DMI_FIELDS = ("sys_vendor", "product_name", "product_version", "board_vendor", "board_name",
              "bios_vendor", "bios_version", "chassis_vendor")
_PARTITION_SUFFIX = re.compile(r"^(.*?\d+)p\d+$|^(.*?[a-z])\d+$")


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str


CommandRunner = Callable[[Sequence[str]], "CommandResult | None"]


def run_command(argv: Sequence[str], timeout: float = 5.0) -> CommandResult | None:
    """Run a command, None when it is not installed or does not finish in time."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return CommandResult(done.returncode, done.stdout)


class LinuxHost(Host):
    def __init__(self, root: str | Path = "/", run: CommandRunner = run_command,
                 env: Mapping[str, str] | None = None, uid: int | None = None) -> None:
        self.root = Path(root)
        self.run = run
        self.env = dict(os.environ if env is None else env)
        self.uid = uid
        self._hash_cache: dict[tuple[int, int, int, int], str] = {}

    def _path(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def _read(self, path: str | Path, limit: int = READ_MAX_BYTES) -> str | None:
        target = path if isinstance(path, Path) else self._path(path)
        try:
            with open(target, "rb") as handle:
                return handle.read(limit).decode("utf-8", "replace")
        except OSError:
            return None

    # -- virtualisation ------------------------------------------------------------------------
    def _detect_virt(self, flag: str) -> str | None:
        result = self.run(["systemd-detect-virt", flag])
        if result is None:
            return None
        return result.stdout.strip() or "none"

    def virtualisation(self) -> VirtualisationFacts:
        dmi = {}
        for name in DMI_FIELDS:
            value = self._read(f"/sys/class/dmi/id/{name}", 1024)
            if value is not None and value.strip():
                dmi[name] = value.strip()
        cpuinfo = self._read("/proc/cpuinfo", 4 * 1024 * 1024) or ""
        flag = any(line.startswith("flags") and "hypervisor" in line.split(":", 1)[-1].split()
                   for line in cpuinfo.splitlines())
        return VirtualisationFacts(self._detect_virt("--vm"), self._detect_virt("--container"),
                                   dmi, flag)

    # -- processes -----------------------------------------------------------------------------
    def processes(self) -> list[ProcessInfo]:
        proc = self._path("/proc")
        found = []
        try:
            entries = [entry for entry in os.listdir(proc) if entry.isdigit()]
        except OSError:
            return []
        for entry in entries:
            base = proc / entry
            comm = self._read(base / "comm", 256)
            if comm is None:
                continue  # exited while we looked
            raw = self._read(base / "cmdline") or ""
            argv = tuple(part for part in raw.split("\0") if part)
            try:
                exe: str | None = os.readlink(base / "exe")
            except OSError:
                exe = None
            found.append(ProcessInfo(int(entry), comm.strip(), argv, exe))
        return found

    def executable_sha256(self, process: ProcessInfo) -> str | None:
        exe = self._path(f"/proc/{process.pid}/exe")
        try:
            with open(exe, "rb") as handle:
                stat = os.fstat(handle.fileno())
                key = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
                if key not in self._hash_cache:
                    self._hash_cache[key] = hashlib.file_digest(handle, "sha256").hexdigest()
                return self._hash_cache[key]
        except OSError:
            return None

    # -- displays and cameras ------------------------------------------------------------------
    def displays(self) -> DisplayFacts:
        connectors = {}
        drm = self._path("/sys/class/drm")
        if drm.is_dir():
            for entry in sorted(drm.iterdir()):
                status = self._read(entry / "status", 64)
                if "-" in entry.name and status is not None:
                    connectors[entry.name] = status.strip()
        monitors = None
        if self.env.get("DISPLAY"):
            result = self.run(["xrandr", "--display", self.env["DISPLAY"], "--listmonitors"])
            match = re.search(r"^Monitors:\s*(\d+)", result.stdout, re.M) if result else None
            if result is not None and result.returncode == 0 and match:
                monitors = int(match.group(1))
        return DisplayFacts(connectors, monitors)

    def video_devices(self) -> dict[str, str]:
        v4l = self._path("/sys/class/video4linux")
        if not v4l.is_dir():
            return {}
        devices = {}
        for entry in sorted(v4l.iterdir()):
            name = self._read(entry / "name", 256)
            if name is not None:
                devices[entry.name] = name.strip()
        return devices

    # -- tracing and injection -----------------------------------------------------------------
    def tracer_pid(self) -> int:
        status = self._read("/proc/self/status") or ""
        match = re.search(r"^TracerPid:\s*(\d+)", status, re.M)
        if match is None:
            raise OSError("no TracerPid line in /proc/self/status")
        return int(match.group(1))

    def preload_environment(self) -> dict[str, str]:
        found = {name: self.env[name] for name in ("LD_PRELOAD", "LD_AUDIT") if self.env.get(name)}
        preload_file = (self._read("/etc/ld.so.preload") or "").strip()
        if preload_file:
            found["/etc/ld.so.preload"] = preload_file
        return found

    # -- network -------------------------------------------------------------------------------
    def interfaces(self) -> list[NetInterface]:
        net = self._path("/sys/class/net")
        if not net.is_dir():
            return []
        result = []
        for entry in sorted(net.iterdir()):
            mac = (self._read(entry / "address", 64) or "").strip() or None
            state = (self._read(entry / "operstate", 64) or "unknown").strip()
            result.append(NetInterface(entry.name, mac, state, (entry / "wireless").is_dir(),
                                       "/devices/virtual/" in os.path.realpath(entry)))
        return result

    def routes(self) -> list[Route]:
        routes = []
        for line in (self._read("/proc/net/route") or "").splitlines()[1:]:
            fields = line.split()
            if len(fields) < 8 or not int(fields[3], 16) & 0x1:  # RTF_UP
                continue
            dest, gateway = _ipv4(fields[1]), _ipv4(fields[2])
            prefix = bin(int(fields[7], 16)).count("1")
            routes.append(Route(fields[0], f"{dest}/{prefix}", gateway, prefix == 0))
        for line in (self._read("/proc/net/ipv6_route") or "").splitlines():
            fields = line.split()
            if len(fields) < 10 or fields[9] == "lo" or int(fields[8], 16) & 0x201 != 0x1:
                continue  # not up, or a reject route
            default = fields[0] == "0" * 32 and fields[1] == "00"
            routes.append(Route(fields[9], f"{_ipv6(fields[0])}/{int(fields[1], 16)}",
                                _ipv6(fields[4]), default))
        return routes

    # -- user and storage ----------------------------------------------------------------------
    def effective_user(self) -> tuple[int, str]:
        uid = os.geteuid() if self.uid is None else self.uid
        try:
            return uid, pwd.getpwuid(uid).pw_name
        except KeyError:
            return uid, str(uid)

    def mounts(self) -> list[Mount]:
        mounts = []
        for line in (self._read("/proc/mounts", 1024 * 1024) or "").splitlines():
            fields = line.split()
            if len(fields) >= 3:
                mounts.append(Mount(*(_unescape(value) for value in fields[:3])))
        return mounts

    def block_device(self, device: str) -> BlockDevice | None:
        if not device.startswith("/dev/"):
            return None
        name = os.path.basename(device)
        entry = self._path(f"/sys/class/block/{name}")
        if (entry / "partition").exists():
            disk = os.path.basename(os.path.dirname(os.path.realpath(entry)))
        elif entry.exists() or self._path(f"/sys/block/{name}").exists():
            disk = name
        else:
            match = _PARTITION_SUFFIX.match(name)
            disk = next((g for g in match.groups() if g), name) if match else name
        disk_dir = self._path(f"/sys/block/{disk}")
        if not disk_dir.exists():
            return None
        removable = (self._read(disk_dir / "removable", 8) or "0").strip() == "1"
        return BlockDevice(disk, removable, "/usb" in os.path.realpath(disk_dir))


def _ipv4(little_endian_hex: str) -> str:
    value = int(little_endian_hex, 16)
    return ".".join(str((value >> shift) & 0xFF) for shift in (0, 8, 16, 24))


def _ipv6(hex32: str) -> str:
    import ipaddress

    return str(ipaddress.IPv6Address(bytes.fromhex(hex32)))


def _unescape(value: str) -> str:
    """/proc/mounts escapes space, tab, newline and backslash as octal (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), value)

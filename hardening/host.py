"""What the preflight checks need to know about the machine, behind one interface.

The checks in ``hardening.checks`` decide pass / warn / fail; a ``Host`` only gathers facts.
Keeping the two apart lets the same decisions run on another operating system (a Windows or
macOS host would implement this interface) and lets tests point a Linux host at a fixture tree.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    comm: str
    argv: tuple[str, ...]
    exe: str | None  # resolved executable path, None when unreadable (another user's process)


@dataclass(frozen=True)
class NetInterface:
    name: str
    mac: str | None
    operstate: str
    wireless: bool
    virtual: bool


@dataclass(frozen=True)
class Route:
    interface: str
    destination: str
    gateway: str
    default: bool


@dataclass(frozen=True)
class Mount:
    device: str
    mountpoint: str
    fstype: str


@dataclass(frozen=True)
class BlockDevice:
    name: str
    removable: bool
    usb: bool


@dataclass(frozen=True)
class VirtualisationFacts:
    detect_virt_vm: str | None  # systemd-detect-virt --vm, None when the tool is missing
    detect_virt_container: str | None
    dmi: dict[str, str] = field(default_factory=dict)
    cpu_hypervisor_flag: bool = False


@dataclass(frozen=True)
class DisplayFacts:
    drm_connectors: dict[str, str]  # connector name -> status ("connected", "disconnected")
    xrandr_monitors: int | None  # None when DISPLAY is unset or xrandr is missing/failed


class Host(abc.ABC):
    """Facts about one machine, read fresh on every call."""

    @abc.abstractmethod
    def virtualisation(self) -> VirtualisationFacts: ...

    @abc.abstractmethod
    def processes(self) -> list[ProcessInfo]: ...

    @abc.abstractmethod
    def executable_sha256(self, process: ProcessInfo) -> str | None:
        """SHA-256 of the process's executable as it is running (even if deleted on disk)."""

    @abc.abstractmethod
    def displays(self) -> DisplayFacts: ...

    @abc.abstractmethod
    def video_devices(self) -> dict[str, str]:
        """Video capture device node name -> driver-reported card name."""

    @abc.abstractmethod
    def tracer_pid(self) -> int:
        """PID of the process tracing this one, 0 when none."""

    @abc.abstractmethod
    def preload_environment(self) -> dict[str, str]:
        """Loader variables that inject code into this process (LD_PRELOAD, LD_AUDIT...)."""

    @abc.abstractmethod
    def interfaces(self) -> list[NetInterface]: ...

    @abc.abstractmethod
    def routes(self) -> list[Route]: ...

    @abc.abstractmethod
    def effective_user(self) -> tuple[int, str]: ...

    @abc.abstractmethod
    def mounts(self) -> list[Mount]: ...

    @abc.abstractmethod
    def block_device(self, device: str) -> BlockDevice | None:
        """The whole disk behind a device node such as ``/dev/sdb1``, None if not a block device."""


"""Fixture machines: /proc and /sys trees built in a temporary directory.

``LinuxHost(root=...)`` reads these exactly as it reads the real kernel files, so the detection
logic is tested on the file formats the kernel produces (copied from real machines), not on
hand-made objects. Commands (systemd-detect-virt, xrandr) are answered from a table because the
test machine cannot be made to run under another hypervisor or grow a second monitor.
"""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Sequence

from hardening.linux import CommandResult, LinuxHost

ROUTE_HEADER = ("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n")


class FixtureMachine:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.commands: dict[tuple[str, ...], CommandResult] = {
            ("systemd-detect-virt", "--vm"): CommandResult(1, "none\n"),
            ("systemd-detect-virt", "--container"): CommandResult(1, "none\n"),
        }
        self.env: dict[str, str] = {}
        self.uid = 1000
        self._routes: list[str] = []
        self.write("proc/self/status", "Name:\tpython3\nState:\tR (running)\nTracerPid:\t0\nUid:\t1000\n")
        self.write("proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae sse sse2\n")
        self.write("proc/mounts", "proc /proc proc rw,relatime 0 0\n/dev/nvme0n1p2 / ext4 rw 0 0\n")
        self.add_disk("nvme0n1", removable=False, usb=False, partitions=["nvme0n1p1", "nvme0n1p2"])
        self.set_dmi(sys_vendor="LENOVO", product_name="20XW004GUS", bios_vendor="LENOVO")
        self.add_interface("lo", "00:00:00:00:00:00", "unknown", virtual=True)
        self.add_interface("enp0s31f6", "54:e1:ad:12:34:56", "up")
        self.add_route("enp0s31f6", "00000000", "0102A8C0", "00000000")
        self.add_drm("card0-eDP-1", "connected")
        self.add_drm("card0-HDMI-A-1", "disconnected")
        self.add_camera("video0", "Integrated Camera: Integrated C")
        self.add_process(1, "systemd", ["/sbin/init", "splash"])

    def write(self, relative: str, text: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        return path

    def run(self, argv: Sequence[str]) -> CommandResult | None:
        return self.commands.get(tuple(argv))

    def host(self) -> LinuxHost:
        return LinuxHost(self.root, run=self.run, env=self.env, uid=self.uid)

    # -- builders ------------------------------------------------------------------------------
    def set_dmi(self, **fields: str) -> None:
        for name, value in fields.items():
            self.write(f"sys/class/dmi/id/{name}", value + "\n")

    def set_hypervisor_flag(self) -> None:
        self.write("proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme de pse tsc hypervisor sse2\n")

    def add_process(self, pid: int, comm: str, argv: list[str], exe_bytes: bytes | None = None) -> None:
        self.write(f"proc/{pid}/comm", comm + "\n")
        self.write(f"proc/{pid}/cmdline", "\0".join(argv) + "\0")
        binary = self.write(f"usr/bin/fixture-exe-{pid}", exe_bytes or f"ELF {comm}".encode())
        link = self.root / f"proc/{pid}/exe"
        if not link.is_symlink():
            link.symlink_to(binary)

    def add_drm(self, name: str, status: str) -> None:
        self.write(f"sys/class/drm/{name}/status", status + "\n")
        (self.root / "sys/class/drm/card0").mkdir(parents=True, exist_ok=True)

    def add_camera(self, node: str, name: str) -> None:
        self.write(f"sys/class/video4linux/{node}/name", name + "\n")

    def add_interface(self, name: str, mac: str, state: str, wireless: bool = False,
                      virtual: bool = False) -> None:
        device = "devices/virtual/net" if virtual else "devices/pci0000:00/0000:00:1f.6/net"
        target = self.root / "sys" / device / name
        self.write(f"sys/{device}/{name}/address", mac + "\n")
        self.write(f"sys/{device}/{name}/operstate", state + "\n")
        if wireless:
            (target / "wireless").mkdir()
        link = self.root / "sys/class/net" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(target, link.parent))

    def add_route(self, interface: str, destination: str, gateway: str, mask: str, flags: str = "0003") -> None:
        self._routes.append(f"{interface}\t{destination}\t{gateway}\t{flags}\t0\t0\t100\t{mask}\t0\t0\t0\n")
        self.write("proc/net/route", ROUTE_HEADER + "".join(self._routes))

    def add_disk(self, name: str, removable: bool, usb: bool, partitions: list[str]) -> None:
        bus = "pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/host6/target6:0:0/6:0:0:0" if usb \
            else "pci0000:00/0000:00:1d.0/0000:3c:00.0/nvme/nvme0"
        disk_dir = self.root / "sys/devices" / bus / "block" / name
        self.write(str((disk_dir / "removable").relative_to(self.root)), "1\n" if removable else "0\n")
        for part in [name, *partitions]:
            part_dir = disk_dir if part == name else disk_dir / part
            if part != name:
                self.write(str((part_dir / "partition").relative_to(self.root)), "1\n")
            link = self.root / "sys/class/block" / part
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(part_dir, link.parent))
        link = self.root / "sys/block" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(disk_dir, link.parent))

    def add_mount(self, device: str, mountpoint: str, fstype: str) -> None:
        mounts = (self.root / "proc/mounts").read_text()
        self.write("proc/mounts", mounts + f"{device} {mountpoint} {fstype} rw,nosuid,nodev 0 0\n")

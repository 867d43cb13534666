"""Preflight detection logic against fixture /proc and /sys trees."""

from __future__ import annotations

import hashlib

import pytest

from hardening import checks
from hardening.host import Host
from hardening.linux import CommandResult
from hardening.policy import load_policy
from hardening.preflight import run_preflight
from tests.support.hardening_machine import FixtureMachine


@pytest.fixture
def machine(tmp_path):
    return FixtureMachine(tmp_path / "root")


@pytest.fixture
def policy():
    return load_policy("default")


def statuses(report):
    return {c.name: c.status for c in report.checks}


def test_clean_laptop_passes_everything_but_unmeasured_clock(machine, policy):
    report = run_preflight(policy, machine.host())
    assert statuses(report) == {
        "virtualisation": "pass", "processes": "pass", "displays": "pass", "cameras": "pass",
        "tracer": "pass", "clock_skew": "warn", "network": "pass", "user": "pass",
        "removable_storage": "pass"}
    assert report.blocking == [] and report.ok
    assert report.to_dict()["checks"][0].keys() == {"name", "status", "evidence"}


@pytest.mark.parametrize("indicator", ["detect-virt", "dmi", "cpu", "mac"])
def test_each_virtual_machine_indicator_alone_fails(machine, policy, indicator):
    if indicator == "detect-virt":
        machine.commands[("systemd-detect-virt", "--vm")] = CommandResult(0, "oracle\n")
    elif indicator == "dmi":
        machine.set_dmi(sys_vendor="innotek GmbH", product_name="VirtualBox")
    elif indicator == "cpu":
        machine.set_hypervisor_flag()
    else:
        machine.add_interface("enp0s3", "08:00:27:aa:bb:cc", "up")
    result = checks.check_virtualisation(machine.host(), policy)
    assert result.status == "fail"
    assert len(result.evidence["findings"]) >= 1
    assert "virtualisation" in run_preflight(policy, machine.host()).blocking


def test_full_qemu_guest_lists_every_finding(machine, policy):
    machine.commands[("systemd-detect-virt", "--vm")] = CommandResult(0, "kvm\n")
    machine.set_dmi(sys_vendor="QEMU", product_name="Standard PC (Q35 + ICH9, 2009)")
    machine.set_hypervisor_flag()
    machine.add_interface("ens3", "52:54:00:12:34:56", "up")
    findings = checks.check_virtualisation(machine.host(), policy).evidence["findings"]
    assert any("kvm" in f for f in findings)
    assert any("sys_vendor='QEMU'" in f for f in findings)
    assert any("hypervisor" in f for f in findings)
    assert any("52:54:00:12:34:56" in f and "QEMU/KVM" in f for f in findings)


def test_container_without_vm_is_a_warning(machine, policy):
    machine.commands[("systemd-detect-virt", "--container")] = CommandResult(0, "docker\n")
    result = checks.check_virtualisation(machine.host(), policy)
    assert result.status == "warn" and "docker" in result.evidence["summary"]


def test_remote_desktop_process_found_by_name(machine, policy):
    machine.add_process(4711, "x11vnc", ["/usr/bin/x11vnc", "-display", ":0", "-forever"])
    machine.add_process(4712, "bash", ["-bash"])
    result = checks.check_processes(machine.host(), policy)
    assert result.status == "fail"
    assert [f["pid"] for f in result.evidence["forbidden"]] == [4711]
    assert "remote-access" in result.evidence["forbidden"][0]["reasons"][0]
    assert result.evidence["processes_scanned"] == 3


def test_renamed_remote_tool_found_by_executable_hash(machine, tmp_path):
    binary = b"\x7fELF fake anydesk build 6.3.0" * 100
    machine.add_process(5000, "innocent", ["/tmp/innocent"], exe_bytes=binary)
    digest = hashlib.sha256(binary).hexdigest()
    site = tmp_path / "site.yaml"
    site.write_text(f"version: 1\nprocesses:\n  sha256:\n    {digest}: AnyDesk 6.3.0\n")
    result = checks.check_processes(machine.host(), load_policy(site))
    assert result.status == "fail"
    (finding,) = result.evidence["forbidden"]
    assert finding["pid"] == 5000 and digest in finding["reasons"][0]
    assert checks.check_processes(machine.host(), load_policy("default")).status == "pass"


def test_screen_grab_by_general_tool_found_by_command_line(machine, policy):
    machine.add_process(6000, "ffmpeg", ["ffmpeg", "-f", "x11grab", "-i", ":0", "out.mkv"])
    result = checks.check_processes(machine.host(), policy)
    assert result.status == "fail" and "x11grab" in result.evidence["summary"]


def test_two_displays_fail_through_drm(machine, policy):
    machine.add_drm("card0-HDMI-A-1", "connected")
    result = checks.check_displays(machine.host(), policy)
    assert result.status == "fail"
    assert result.evidence["drm_connected"] == ["card0-HDMI-A-1", "card0-eDP-1"]


def test_two_displays_fail_through_xrandr(machine, policy):
    machine.env["DISPLAY"] = ":5"
    machine.commands[("xrandr", "--display", ":5", "--listmonitors")] = CommandResult(
        0, "Monitors: 2\n 0: +*eDP-1 1920/344x1080/194+0+0  eDP-1\n 1: +HDMI-1 1920/527x1080/296+1920+0  HDMI-1\n")
    result = checks.check_displays(machine.host(), policy)
    assert result.status == "fail" and result.evidence["xrandr_monitors"] == 2


def test_no_display_found_uses_policy_status(machine, policy):
    machine.add_drm("card0-eDP-1", "disconnected")
    assert checks.check_displays(machine.host(), policy).status == "warn"


@pytest.mark.parametrize("name", ["Dummy video device (0x0000)", "OBS Virtual Camera", "v4l2loopback"])
def test_virtual_camera_fails(machine, policy, name):
    machine.add_camera("video2", name)
    result = checks.check_cameras(machine.host(), policy)
    assert result.status == "fail" and result.evidence["virtual"] == {"video2": name}


def test_missing_camera_follows_policy(tmp_path, policy):
    machine = FixtureMachine(tmp_path / "root")
    (machine.root / "sys/class/video4linux/video0/name").unlink()
    assert checks.check_cameras(machine.host(), policy).status == "fail"
    assert checks.check_cameras(machine.host(), load_policy("development")).status == "warn"


def test_tracer_attached_fails(machine, policy):
    machine.write("proc/self/status", "Name:\tpython3\nTracerPid:\t4242\n")
    result = checks.check_tracer(machine.host(), policy)
    assert result.status == "fail" and result.evidence["tracer_pid"] == 4242


def test_preloaded_library_fails(machine, policy):
    machine.env["LD_PRELOAD"] = "/tmp/libhook.so"
    machine.write("etc/ld.so.preload", "/usr/lib/libsnoop.so\n")
    result = checks.check_tracer(machine.host(), policy)
    assert result.status == "fail"
    assert result.evidence["preload"] == {"LD_PRELOAD": "/tmp/libhook.so",
                                          "/etc/ld.so.preload": "/usr/lib/libsnoop.so"}


def test_mounted_usb_stick_fails(machine, policy):
    machine.add_disk("sdb", removable=True, usb=True, partitions=["sdb1"])
    machine.add_mount("/dev/sdb1", "/media/candidate/KINGSTON\\040USB", "vfat")
    result = checks.check_removable_storage(machine.host(), policy)
    assert result.status == "fail"
    (mounted,) = result.evidence["mounted"]
    assert mounted["disk"] == "sdb" and mounted["usb"] and mounted["removable"]
    assert mounted["mountpoint"] == "/media/candidate/KINGSTON USB"


def test_usb_disk_not_flagged_removable_is_still_found(machine, policy):
    machine.add_disk("sdc", removable=False, usb=True, partitions=["sdc1"])
    machine.add_mount("/dev/sdc1", "/mnt", "ext4")
    assert checks.check_removable_storage(machine.host(), policy).status == "fail"


def test_unmounted_usb_stick_passes(machine, policy):
    machine.add_disk("sdb", removable=True, usb=True, partitions=["sdb1"])
    assert checks.check_removable_storage(machine.host(), policy).status == "pass"


def test_vpn_wifi_and_two_default_routes_warn(machine, policy):
    machine.add_interface("tun0", "", "unknown", virtual=True)
    machine.add_interface("wlp2s0", "a4:34:d9:00:11:22", "up", wireless=True)
    machine.add_route("tun0", "00000000", "0100080A", "00000000")
    result = checks.check_network(machine.host(), policy)
    assert result.status == "warn"
    text = " ".join(result.evidence["findings"])
    assert "tun0" in text and "wlp2s0" in text and "2 IPv4 default routes" in text
    assert "network" not in run_preflight(policy, machine.host()).blocking


def test_root_user_fails_by_default_and_warns_in_development(machine, policy):
    machine.uid = 0
    assert checks.check_user(machine.host(), policy).status == "fail"
    assert checks.check_user(machine.host(), load_policy("development")).status == "warn"
    assert "user" in run_preflight(policy, machine.host()).blocking
    assert run_preflight(load_policy("development"), machine.host()).blocking == []


def test_a_check_that_raises_fails_closed(machine, policy):
    class BrokenHost(type(machine.host())):  # type: ignore[misc]  # whichever Host class the fixture gives
        def tracer_pid(self) -> int:
            raise OSError("no TracerPid line in /proc/self/status")

    host = BrokenHost(machine.root, run=machine.run, env={}, uid=1000)
    report = run_preflight(policy, host)
    tracer = next(c for c in report.checks if c.name == "tracer")
    assert tracer.status == "fail" and "TracerPid" in tracer.evidence["error"]
    assert report.blocking == ["tracer"]


def test_host_interface_is_abstract():
    with pytest.raises(TypeError):
        Host()  # type: ignore[abstract]

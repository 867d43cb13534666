"""exam_core.files: atomic, durable replacement, exact modes, nothing left behind."""

import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from exam_core.files import fsync_dir, write_atomic


def test_write_then_replace(tmp_path):
    path = tmp_path / "f.bin"
    write_atomic(path, b"old")
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o755])
def test_mode_is_exact_whatever_the_umask(tmp_path, mode):
    old = os.umask(0o077)
    try:
        write_atomic(tmp_path / "f", b"x", mode)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "f").st_mode) == mode


def test_default_mode_follows_umask(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "f").st_mode) == 0o640


def test_failure_keeps_old_content_and_removes_temp(tmp_path):
    path = tmp_path / "f"
    write_atomic(path, b"old")
    with pytest.raises(TypeError):
        write_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_fsync_dir_refuses_a_file(tmp_path):
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        fsync_dir(tmp_path / "f")


WRITER = """
import sys
from exam_core.files import write_atomic
path = sys.argv[1]
print("ready", flush=True)
i = 0
while True:
    write_atomic(path, bytes([65 + i % 2]) * 1_000_000)
    i += 1
"""


def test_kill_9_leaves_old_or_new_never_half(tmp_path):
    """A real writer process killed mid-loop: the file is always one whole version."""
    path = tmp_path / "f"
    for delay in (0.05, 0.13, 0.21):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                                cwd=os.getcwd())
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        data = path.read_bytes()
        assert len(data) == 1_000_000 and data in (b"A" * 1_000_000, b"B" * 1_000_000)

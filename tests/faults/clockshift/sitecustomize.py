"""A wall clock that can be stepped while the process runs, for the kiosk under test (not a mock of the kiosk).

Why not libfaketime: Debian's libfaketime 0.9.10 with DONT_FAKE_MONOTONIC=1 (needed, since an NTP
step or a hand-set clock moves CLOCK_REALTIME only) makes Python's ``time.sleep`` fail with EINVAL
(clock_nanosleep on the monotonic clock), so the kiosk's own threads would die and the test would
prove nothing. This module is loaded at interpreter start-up (``PYTHONPATH`` holds this folder) and
shifts every wall-clock reading Python code can make (``time.time``, ``time.time_ns``,
``datetime.now``/``utcnow``/``today``) by the number of seconds in the file named by
``INVIGIL_TEST_CLOCK_OFFSET_FILE``, re-read at most every 50 ms. ``time.monotonic`` is untouched, as
on a real machine whose clock is stepped.
"""

import datetime as _datetime_module
import os
import time as _time

_FILE = os.environ.get("INVIGIL_TEST_CLOCK_OFFSET_FILE")

if _FILE:
    _real_time, _real_time_ns, _real_monotonic = _time.time, _time.time_ns, _time.monotonic
    _cache = {"at": -1.0, "offset": 0.0}

    def _offset() -> float:
        now = _real_monotonic()
        if now - _cache["at"] > 0.05:
            try:
                with open(_FILE) as f:
                    _cache["offset"] = float(f.read().strip() or 0)
            except (OSError, ValueError):
                pass  # a file being rewritten: keep the last offset
            _cache["at"] = now
        return _cache["offset"]

    def _time_shifted() -> float:
        return _real_time() + _offset()

    def _time_ns_shifted() -> int:
        return _real_time_ns() + int(_offset() * 1e9)

    _time.time, _time.time_ns = _time_shifted, _time_ns_shifted
    _Real = _datetime_module.datetime

    class _ShiftedDatetime(_Real):
        @classmethod
        def _shifted(cls, real):
            r = real + _datetime_module.timedelta(seconds=_offset())
            return cls(r.year, r.month, r.day, r.hour, r.minute, r.second, r.microsecond, r.tzinfo)

        @classmethod
        def now(cls, tz=None):
            return cls._shifted(_Real.now(tz))

        @classmethod
        def utcnow(cls):
            return cls._shifted(_Real.utcnow())

        @classmethod
        def today(cls):
            return cls.now()

    # replacing the class is the point: every later datetime.now() in this process is shifted
    _datetime_module.datetime = _ShiftedDatetime  # type: ignore[misc]

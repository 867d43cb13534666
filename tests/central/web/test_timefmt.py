"""Times in words in the body's time zone."""

from __future__ import annotations

from datetime import datetime, UTC

from item_bank_sync.web.timefmt import when


def test_times_in_words_in_the_body_s_zone():
    assert when("2026-12-06T13:05:00Z", "Europe/Paris") == "6 December 2026, 14:05 CET"
    assert when("2026-07-06T13:05:00.123Z", "Europe/Helsinki") == "6 July 2026, 16:05 EEST"
    assert when(datetime(2026, 12, 6, 13, 5, tzinfo=UTC)) == "6 December 2026, 13:05 UTC"


def test_an_unknown_zone_falls_back_to_utc_and_nothing_shows_nothing():
    assert when("2026-12-06T13:05:00Z", "Mars/Olympus") == "6 December 2026, 13:05 UTC"
    assert when(None) == "" and when("") == ""
    assert when("not a time") == "not a time"

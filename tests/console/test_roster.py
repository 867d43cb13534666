"""The roster: every row validated, the whole file refused naming line and field."""

from __future__ import annotations

import pytest

from proctor_console.errors import InvalidRequest
from proctor_console.roster import parse_roster


def test_roster_validation_names_line_and_field() -> None:
    good = parse_roster(b"candidate_id,name,scheme,seat,accommodations\nc1,Ann,s1,A1,\n")
    assert good[0]["candidate_id"] == "c1"
    with pytest.raises(InvalidRequest, match="line 3: name"):
        parse_roster(b"candidate_id,name,scheme,seat\nc1,Ann,s1,A1\nc2,,s1,A2\n")
    with pytest.raises(InvalidRequest, match=r"line 2: accommodations\.extra_time_percent"):
        parse_roster(b'candidate_id,name,scheme,seat,accommodations\nc1,Ann,s1,A1,"{""extra_time_percent"": 999}"\n')
    with pytest.raises(InvalidRequest, match="appears twice"):
        parse_roster(b"candidate_id,name,scheme,seat\nc1,Ann,s1,A1\nc1,Bob,s1,A2\n")

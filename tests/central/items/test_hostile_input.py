"""Hostile input: XXE, entity bombs, oversized or mis-encoded files, script, path tricks, zip bombs."""

from __future__ import annotations

import os
import threading
import time
import zipfile
from pathlib import Path

import pytest

from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.importer import ImportOptions, iter_sources
from item_bank_sync.items.qti.reader import ParsedItem
from tests.support.central_items import choice_item, write_qti
from tests.support.central_db import everything_stored

PNG_1x1 = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def one(path: Path, **options) -> ParsedItem | ItemRejected:
    (outcome,) = list(iter_sources([path], ImportOptions(**options)))
    return outcome


def rejected(path: Path) -> ItemRejected:
    outcome = one(path)
    assert isinstance(outcome, ItemRejected), "expected a rejection"
    return outcome


def test_xxe_is_rejected_fast_and_never_opens_the_file(tmp_path: Path) -> None:
    """The entity points at a FIFO: opening it for reading would block, so finishing proves no read."""
    fifo = tmp_path / "secret.fifo"
    os.mkfifo(fifo)
    opened = threading.Event()

    def writer() -> None:  # only returns if somebody opens the FIFO for reading
        with open(fifo, "w") as handle:
            opened.set()
            handle.write("SECRET-CONTENT")

    threading.Thread(target=writer, daemon=True).start()
    xml = choice_item().replace('<?xml version="1.0" encoding="UTF-8"?>\n',
                                f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE assessmentItem ['
                                f'<!ENTITY xxe SYSTEM "file://{fifo}">]>\n').replace("<p>", "<p>&xxe;")
    xml = xml.replace("<prompt>Pick</prompt>", "<prompt>&xxe;</prompt>")
    path = write_qti(tmp_path, "xxe.xml", xml)
    start = time.perf_counter()
    outcome = rejected(path)
    assert time.perf_counter() - start < 1.0
    assert "ENTITY" in outcome.element and "XXE" in outcome.problem
    time.sleep(0.2)
    assert not opened.is_set(), "the importer opened the file named by the entity"
    with open(fifo) as handle:  # unblock the writer thread
        handle.read()


def test_xxe_to_a_real_file_leaks_nothing(tmp_path: Path, central) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PASSWORD")
    xml = choice_item().replace('<?xml version="1.0" encoding="UTF-8"?>\n',
                                f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]>')
    xml = xml.replace("<prompt>Pick</prompt>", "<prompt>&x;</prompt>")
    result = central.run("import", str(write_qti(tmp_path, "x.xml", xml)), "--json")
    assert result.exit_code == 1 and "TOP-SECRET" not in result.output
    assert b"TOP-SECRET" not in everything_stored(central.data_dir)


def test_billion_laughs_is_rejected_within_a_second(tmp_path: Path) -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10))
    xml = f'<?xml version="1.0"?>\n<!DOCTYPE lolz [{entities}]>\n' + choice_item().split("\n", 1)[1].replace(
        "<prompt>Pick</prompt>", "<prompt>&lol9;</prompt>")
    start = time.perf_counter()
    outcome = rejected(write_qti(tmp_path, "lol.xml", xml))
    assert time.perf_counter() - start < 1.0
    assert "ENTITY" in outcome.reason


def test_external_dtd_and_parameter_entities_are_not_fetched(tmp_path: Path) -> None:
    fifo = tmp_path / "dtd.fifo"
    os.mkfifo(fifo)
    xml = f'<?xml version="1.0"?>\n<!DOCTYPE assessmentItem SYSTEM "file://{fifo}">\n' + choice_item().split("\n", 1)[1]
    start = time.perf_counter()
    outcome = rejected(write_qti(tmp_path, "dtd.xml", xml))
    assert time.perf_counter() - start < 1.0  # a read of the FIFO would hang here
    assert outcome.element == "!DOCTYPE" and "external DTD" in outcome.problem
    plain = '<?xml version="1.0"?>\n<!DOCTYPE assessmentItem>\n' + choice_item().split("\n", 1)[1]
    assert isinstance(one(write_qti(tmp_path, "plain.xml", plain)), ParsedItem)
    param = f'<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY % p SYSTEM "file://{fifo}"> %p;]>\n<a/>'
    assert "ENTITY" in rejected(write_qti(tmp_path, "param.xml", param)).reason


@pytest.mark.parametrize("data, element, problem", [
    ("\ufeff".encode("utf-16") + choice_item().encode("utf-16")[2:], "file", "UTF-16"),
    (choice_item().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1"), "?xml", "only UTF-8"),
    (b"<assessmentItem", "xml", "malformed XML"),
    (choice_item().encode() + b" " * (2 * 1024 * 1024), "file", "more than"),
    (choice_item().replace("imsqti_v2p1", "imsqti_v9").encode(), "assessmentItem", "is not QTI"),
])
def test_unreadable_files_are_rejected_with_a_reason(tmp_path: Path, data: bytes, element: str, problem: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_bytes(data)
    outcome = rejected(path)
    assert element in outcome.element and problem in outcome.problem, outcome.reason


def test_script_handlers_and_styles_are_removed(tmp_path: Path) -> None:
    body = ('<p onclick="steal()" style="color:red" class="ok bad!">Hi <script>steal()</script>'
            '<style>p{}</style><span onmouseover="x()">there</span></p>'
            '<feedbackBlock outcomeIdentifier="FB" identifier="A" showHide="show">the answer is A</feedbackBlock>'
            '<rubricBlock view="scorer"><p>answer A</p></rubricBlock>')
    outcome = one(write_qti(tmp_path, "s.xml", choice_item(body_extra=body)))
    assert isinstance(outcome, ParsedItem)
    html = outcome.item.body_html
    for banned in ("script", "steal", "onclick", "onmouseover", "style", "answer", "bad!"):
        assert banned not in html, banned
    assert html.startswith('<p class="ok">Hi <span>there</span></p>')
    warnings = " ".join(outcome.warnings)
    assert "script" in warnings and "onclick" in warnings and "feedbackBlock" in warnings and "scorer" in warnings


def test_links_are_unwrapped_and_foreign_elements_reported(tmp_path: Path) -> None:
    body = '<p><a href="javascript:alert(1)">click</a> <ssml:sub xmlns:ssml="urn:x" alias="D">Dr.</ssml:sub></p>'
    outcome = one(write_qti(tmp_path, "a.xml", choice_item(body_extra=body)))
    assert isinstance(outcome, ParsedItem)
    assert outcome.item.body_html.startswith("<p>click Dr.</p>")
    assert "javascript" not in outcome.item.body_html and any("itemBody/p/a" in w for w in outcome.warnings)


@pytest.mark.parametrize("body, element, problem", [
    # body recordings are played (listening items) only from a file in the package
    ('<video src="v.mp4"/>', "itemBody/video", "not found in the package"),
    ('<video src="http://evil.example/v.mp4"/>', "itemBody/video", "URLs and absolute paths"),
    ('<audio src="../../outside.wav"/>', "itemBody/audio", "outside the import root"),
    ('<object type="application/x-shockwave-flash" data="x.swf"/>', "itemBody/object", "only images"),
    ('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/>', "xi:include",
     "URLs and absolute paths"),
    ('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="http://evil.example/x.xml"/>', "xi:include",
     "URLs and absolute paths"),
    ('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="../../outside.png"/>', "xi:include",
     "outside the import root"),
    ('<x:include xmlns:x="http://www.w3.org/2001/XInclude" href="m.xml"/>', "xi:include", "nested deeper"),
    ('<qh5:video xmlns:qh5="http://www.imsglobal.org/xsd/imsqtiv2p2_html5_v1p0" src="v.mp4"/>', "itemBody/video",
     "not found in the package"),
    ('<hq5:audio xmlns:hq5="http://www.imsglobal.org/xsd/imsqtiv2p2_html5_v1p0" src="a.mp3"/>', "itemBody/audio",
     "not found in the package"),
    ('<ns:audio xmlns:ns="urn:other" src="a.mp3"/>', "itemBody/ns:audio", "cannot be delivered"),
    ('<img src="http://evil.example/x.png" alt=""/>', "itemBody/img", "URLs and absolute paths"),
    ('<img src="/etc/passwd" alt=""/>', "itemBody/img", "URLs and absolute paths"),
    ('<img src="../../outside.png" alt=""/>', "itemBody/img", "outside the import root"),
    ('<img src="%2e%2e/%2E%2E/outside.png" alt=""/>', "itemBody/img", "outside the import root"),  # decoded first
    ('<img src="%2Fetc%2Fpasswd" alt=""/>', "itemBody/img", "URLs and absolute paths"),
    ('<img src="fake%00.png" alt=""/>', "itemBody/img", "URLs and absolute paths"),
    ('<img src="missing.png" alt=""/>', "itemBody/img", "not found"),
    ('<img src="fake.png" alt=""/>', "itemBody/img", "not a PNG"),
    ('<img src="pic.svg" alt=""/>', "itemBody/img", "SVG"),
])
def test_content_that_cannot_be_delivered_safely_is_rejected(tmp_path: Path, body: str, element: str,
                                                            problem: str) -> None:
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "fake.png").write_bytes(b"<html>not an image</html>")
    (tmp_path / "items" / "pic.svg").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')
    (tmp_path / "outside.png").write_bytes(PNG_1x1)
    outcome = rejected(write_qti(tmp_path / "items", "m.xml", choice_item(body_extra=body)))
    assert element in outcome.element and problem in outcome.problem, outcome.reason


def test_zip_slip_and_zip_bombs_are_refused(tmp_path: Path) -> None:
    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(slip, "w") as archive:
        archive.writestr("imsmanifest.xml", "<manifest/>")
        archive.writestr("../../evil.xml", "x")
    assert "escapes" in rejected(slip).problem
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imsmanifest.xml", "<manifest/>")
        archive.writestr("items/big.xml", b"\0" * (10 * 1024 * 1024))
    assert "ratio" in rejected(bomb).problem
    empty = tmp_path / "nomanifest.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("items/a.xml", choice_item())
    assert rejected(empty).element == "imsmanifest.xml"
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not a zip")
    assert "not a readable zip" in rejected(garbage).problem


def _content_package(path: Path, item_method: int = zipfile.ZIP_STORED) -> Path:
    """A content package with one item, its member written with ``item_method``."""
    manifest = ('<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="M"><resources>'
                '<resource identifier="R1" type="imsqti_item_xmlv2p1" href="items/a.xml"/></resources></manifest>')
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("imsmanifest.xml", manifest)
        archive.writestr("items/a.xml", choice_item("a"), compress_type=item_method)
    return path


def _patch_item_headers(path: Path, local_offset: int, central_offset: int, value: int, size: int) -> None:
    """Write ``value`` into the same field of items/a.xml's local header and central directory entry
    (the second member of each)."""
    data = bytearray(path.read_bytes())
    local = data.index(b"PK\x03\x04", data.index(b"PK\x03\x04") + 1)
    central = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1)
    for at in (local + local_offset, central + central_offset):
        if size == 1:
            data[at] |= value
        else:
            data[at:at + size] = value.to_bytes(size, "little")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, where, problem", [
    ("bad_crc", "items/a.xml", "corrupt"),
    ("encrypted", "zip", "encryption"),
    ("bzip2", "zip", "compression method 12"),
    ("aes", "zip", "compression method 99"),
])
def test_a_damaged_zip_member_is_a_clean_import_error(tmp_path: Path, central, damage: str, where: str,
                                                      problem: str) -> None:
    """Before exam_core.safezip read these zips, each was a traceback (zipfile's BadZipFile,
    RuntimeError or NotImplementedError) or, for bzip2, a method the policy does not accept."""
    path = _content_package(tmp_path / f"{damage}.zip", zipfile.ZIP_BZIP2 if damage == "bzip2" else zipfile.ZIP_STORED)
    if damage == "bad_crc":
        data = path.read_bytes()
        at = data.index(b"<prompt>Pick")
        path.write_bytes(data[:at + 8] + b"Q" + data[at + 9:])
    elif damage == "encrypted":
        _patch_item_headers(path, 6, 8, 0x01, 1)          # general-purpose flag bit 0
    elif damage == "aes":
        _patch_item_headers(path, 8, 10, 99, 2)           # compression method 99 (WinZip AES)
    outcome = rejected(path)
    assert outcome.element == where and problem in outcome.problem, outcome.reason
    result = central.json("import", path, code=1)
    assert result["imported"] == [] and problem in result["rejected"][0]["reason"]

import hashlib
import json
import time
import zipfile
from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st

from exam_core import formcontent, package, safezip, signing
from exam_core.errors import (ArtefactError, ExpiredError, MalformedError, ReleaseCodeError,
                              TamperedError, TooLargeError, UnknownVersionError, ValidationError,
                              WrongKeyError, WrongPurposeError)
from exam_core.jsonio import canonical_dumps
from exam_core.timestamps import utc_now
from tests.support.pki import build
from tests.support.zips import lying_zip_bomb, zip_bomb, zip_of


@pytest.fixture(scope="module")
def plain(signing_key, x25519_key):
    data, code = build(signing_key, x25519_key.public_key())
    assert code is None
    return data


@pytest.fixture(scope="module")
def coded(signing_key, hpke_key):
    return build(signing_key, hpke_key.public_key(), code=True)


def test_round_trip_without_code(plain, signing_key, x25519_key):
    pkg = package.read_form_package(plain, signing_key.public_key())
    assert pkg.manifest.form_version == 2 and pkg.manifest.title == "Demo"
    assert not pkg.release_code_required
    key = package.unwrap_content_key(pkg, x25519_key)
    assert package.decrypt_content(pkg, key) == b"form content " * 100
    assert b"form content" not in plain
    assert sorted(zipfile.ZipFile(__import__("io").BytesIO(plain)).namelist()) == \
        ["content.bin", "manifest.json", "manifest.sig"]


def test_release_code_is_a_second_factor(coded, signing_key, hpke_key):
    data, code = coded
    assert code and len(code) == 19 and code.count("-") == 3
    pkg = package.read_form_package(data, signing_key.public_key())
    assert pkg.release_code_required and pkg.manifest.release_code_required
    with pytest.raises(ReleaseCodeError) as missing:
        package.unwrap_content_key(pkg, hpke_key)
    assert missing.value.missing
    wrong = "".join("2" if c != "2" else "3" for c in code.replace("-", ""))
    with pytest.raises(ReleaseCodeError) as bad:
        package.unwrap_content_key(pkg, hpke_key, wrong)
    assert not bad.value.missing
    with pytest.raises(ValidationError):
        package.unwrap_content_key(pkg, hpke_key, "0000-1111-IIII-OOOO")
    key = package.unwrap_content_key(pkg, hpke_key, code.lower().replace("-", " "))
    assert package.decrypt_content(pkg, key).startswith(b"form content")


def test_code_is_needed_even_with_the_wrapped_secret(coded, signing_key, hpke_key):
    """The unwrapped secret alone (no Argon2id factor) yields a key that does not decrypt."""
    from exam_core import hpke, purposes
    from exam_core.jsonio import b64d
    pkg = package.read_form_package(coded[0], signing_key.public_key())
    secret = hpke.open_sealed(hpke_key, purposes.FORM_CONTENT_KEY, b64d(pkg.manifest_fields["wrapped_key"]),
                              b"pkg-1")
    guess = package._derive(secret, b"", purposes.FORM_CONTENT, "pkg-1")
    with pytest.raises(TamperedError):
        package.decrypt_content(pkg, guess)


def test_wrong_centre_and_wrong_issuer(plain, signing_key, other_signing_key, x25519_key, hpke_key):
    with pytest.raises(WrongKeyError):
        package.read_form_package(plain, other_signing_key.public_key())
    pkg = package.read_form_package(plain, signing_key.public_key())
    with pytest.raises(WrongKeyError):
        package.unwrap_content_key(pkg, hpke_key)


def test_delivery_window(signing_key, x25519_key):
    now = utc_now()
    early, _ = build(signing_key, x25519_key.public_key(), opens=now + timedelta(hours=1),
                     closes=now + timedelta(hours=2))
    pkg = package.read_form_package(early, signing_key.public_key())
    with pytest.raises(ExpiredError, match="opens"):
        package.unwrap_content_key(pkg, x25519_key)
    assert package.unwrap_content_key(pkg, x25519_key, at=now + timedelta(minutes=90))
    with pytest.raises(ExpiredError, match="closed"):
        package.unwrap_content_key(pkg, x25519_key, at=now + timedelta(hours=3))


def test_manifest_cannot_move_to_other_content(signing_key, x25519_key):
    a, _ = build(signing_key, x25519_key.public_key(), content=b"A" * 50)
    b, _ = build(signing_key, x25519_key.public_key(), content=b"B" * 50)
    ma = safezip.read_canonical(a, package.ZIP_POLICY)
    mb = safezip.read_canonical(b, package.ZIP_POLICY)
    mixed = safezip.write_canonical([("manifest.json", bytes(ma["manifest.json"])),
                                     ("manifest.sig", bytes(ma["manifest.sig"])),
                                     ("content.bin", bytes(mb["content.bin"]))])
    with pytest.raises(TamperedError, match="content_sha256"):     # the signed digest refuses it at once
        package.read_form_package(mixed, signing_key.public_key())
    # Even a manifest re-signed with the foreign content's digest does not open it: the AAD binds
    # the rest of the manifest, and the content key is the package's own.
    fields = json.loads(bytes(ma["manifest.json"]))
    fields["content_sha256"] = hashlib.sha256(bytes(mb["content.bin"])).hexdigest()
    manifest = canonical_dumps(fields)
    resigned = safezip.write_canonical([("manifest.json", manifest),
                                        ("manifest.sig", signing.make_detached(signing_key, "form-manifest", manifest)),
                                        ("content.bin", bytes(mb["content.bin"]))])
    pkg = package.read_form_package(resigned, signing_key.public_key())
    with pytest.raises(TamperedError):
        package.decrypt_content(pkg, package.unwrap_content_key(pkg, x25519_key))


def test_a_changed_content_byte_is_refused_without_any_key(plain, signing_key):
    """Issue 13, M1: version 1 signed only the size of content.bin, so a flipped byte passed every
    check until the kiosk decrypted it. The signed digest refuses it from the manifest alone."""
    members = {k: bytes(v) for k, v in safezip.read_canonical(plain, package.ZIP_POLICY).items()}
    start = plain.index(members["content.bin"])
    for offset in (0, 12, len(members["content.bin"]) // 2, len(members["content.bin"]) - 1):
        bad = bytearray(plain)
        bad[start + offset] ^= 0x01
        with pytest.raises(TamperedError, match="content_sha256"):
            package.read_form_package(bytes(bad), signing_key.public_key())


def test_version_1_packages_are_refused_by_name(plain, signing_key):
    """A v1 manifest (no content digest), signed by the right key, is refused with what to do."""
    members = {k: bytes(v) for k, v in safezip.read_canonical(plain, package.ZIP_POLICY).items()}
    fields = json.loads(members["manifest.json"])
    fields["v"] = 1
    del fields["content_sha256"]
    manifest = canonical_dumps(fields)
    old = safezip.write_canonical([("manifest.json", manifest),
                                   ("manifest.sig", signing.make_detached(signing_key, "form-manifest", manifest)),
                                   ("content.bin", members["content.bin"])])
    with pytest.raises(UnknownVersionError, match=r"v1 signs no digest.*publish the form again"):
        package.read_form_package(old, signing_key.public_key())
    for version in (3, True, 2.0, "2"):
        fields["v"] = version
        fields["content_sha256"] = "ab" * 32
        manifest = canonical_dumps(fields)
        signature = signing.make_detached(signing_key, "form-manifest", manifest)
        other = safezip.write_canonical([("manifest.json", manifest),
                                         ("manifest.sig", signature),
                                         ("content.bin", members["content.bin"])])
        with pytest.raises(UnknownVersionError):
            package.read_form_package(other, signing_key.public_key())


def test_kiosk_release(plain, signing_key, x25519_key, hpke_key, other_hpke_key):
    pkg = package.read_form_package(plain, signing_key.public_key())
    key = package.unwrap_content_key(pkg, x25519_key)
    sealed = package.wrap_key_for_kiosk(key, hpke_key.public_key(), "pkg-1", "attempt-9")
    assert package.unwrap_released_key(sealed, hpke_key, "pkg-1", "attempt-9") == key
    with pytest.raises(TamperedError):
        package.unwrap_released_key(sealed, hpke_key, "pkg-1", "attempt-10")
    with pytest.raises(WrongKeyError):
        package.unwrap_released_key(sealed, other_hpke_key, "pkg-1", "attempt-9")
    from exam_core import hpke
    with pytest.raises(WrongPurposeError):
        hpke.open_sealed(hpke_key, "form-content-key", sealed, b"pkg-1")


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_any_flipped_byte_rejected(plain, signing_key, x25519_key, data):
    pos = data.draw(st.integers(0, len(plain) - 1))
    bad = bytearray(plain)
    bad[pos] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(ArtefactError):
        package.open_form_package(bytes(bad), signing_key.public_key(), x25519_key)


def test_every_metadata_byte_is_checked(plain, signing_key, x25519_key):
    """Exhaustive over the bytes outside the three members' data (headers, directory, end record)."""
    members = safezip.read_canonical(plain, package.ZIP_POLICY)
    offsets = [(plain.index(bytes(view)), plain.index(bytes(view)) + len(view)) for view in members.values()]
    for pos in (p for p in range(len(plain)) if not any(s <= p < e for s, e in offsets)):
        bad = bytearray(plain)
        bad[pos] ^= 0x01
        with pytest.raises(ArtefactError):
            package.read_form_package(bytes(bad), signing_key.public_key())


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_zip_shape_attacks_rejected_fast(plain, signing_key):
    members = {k: bytes(v) for k, v in safezip.read_canonical(plain, package.ZIP_POLICY).items()}
    attacks = {
        "bomb": zip_bomb("content.bin", 60 * 1024 * 1024),
        "lying bomb": lying_zip_bomb("content.bin", 50 * 1024 * 1024, 1000),
        "traversal": zip_of([("../manifest.json", b"{}"), ("manifest.sig", b""), ("content.bin", b"")]),
        "absolute": zip_of([("/etc/passwd", b"x")]),
        "duplicate": zip_of([("manifest.json", members["manifest.json"]), ("manifest.json", b"{}"),
                             ("manifest.sig", members["manifest.sig"]), ("content.bin", members["content.bin"])]),
        "directory": zip_of([("manifest.json/", b"")]),
        "extra member": zip_of([*members.items(), ("evil.sh", b"rm -rf /")]),
        "missing member": zip_of([("manifest.json", members["manifest.json"])]),
        "deflated": zip_of(list(members.items()), zipfile.ZIP_DEFLATED),
        "not a zip": b"PK\x03\x04" + b"\0" * 100,
        "empty": b"",
    }
    for label, data in attacks.items():
        start = time.perf_counter()
        with pytest.raises((MalformedError, TooLargeError)):
            package.read_form_package(data, signing_key.public_key())
        assert time.perf_counter() - start < 1.0, label


def test_same_members_in_another_zip_layout_refused(plain, signing_key):
    """Only the canonical layout is accepted, so no metadata byte can carry anything unchecked."""
    members = {k: bytes(v) for k, v in safezip.read_canonical(plain, package.ZIP_POLICY).items()}
    for order in (["manifest.json", "manifest.sig", "content.bin"], ["content.bin", "manifest.sig", "manifest.json"]):
        other = zip_of([(name, members[name]) for name in order])
        with pytest.raises(MalformedError, match="canonical"):
            package.read_form_package(other, signing_key.public_key())
    reordered = safezip.write_canonical([(n, members[n]) for n in ["content.bin", "manifest.sig", "manifest.json"]])
    assert package.read_form_package(reordered, signing_key.public_key()).package_id == "pkg-1"


# ----- form content (inner zip) --------------------------------------------------------------------

def test_form_content_round_trip():
    import hashlib
    image = b"\x89PNG fake image bytes"
    digest = hashlib.sha256(image).hexdigest()
    data = formcontent.encode({"form": {"form_id": "F1"}, "items": []}, {digest: image})
    form, media = formcontent.decode(data)
    assert form == {"form": {"form_id": "F1"}, "items": []} and media == {digest: image}
    with pytest.raises(ValidationError):
        formcontent.encode({"a": 1}, {"0" * 64: image})


def test_form_content_rejects_hostile_archives():
    import hashlib
    good = b"img"
    digest = hashlib.sha256(good).hexdigest()
    cases: dict[str, tuple[bytes, type[Exception] | tuple[type[Exception], ...]]] = {
        "bad hash": (zip_of([("form.json", b"{}"), (f"media/{'0' * 64}", good)]), TamperedError),
        "traversal": (zip_of([("form.json", b"{}"), ("media/../../x", good)]), MalformedError),
        "no form": (zip_of([(f"media/{digest}", good)]), MalformedError),
        "bomb": (zip_bomb("form.json", 60 * 1024 * 1024), TooLargeError),
        "lying bomb": (lying_zip_bomb("form.json", 30 * 1024 * 1024, 100), (TooLargeError, MalformedError)),
        "deep json": (zip_of([("form.json", b"[" * 5000 + b"]" * 5000)]), TooLargeError),
        "not object": (zip_of([("form.json", b"[1]")]), MalformedError),
    }
    for label, (data, error) in cases.items():
        start = time.perf_counter()
        with pytest.raises(error):
            formcontent.decode(data)
        assert time.perf_counter() - start < 1.0, label
    deflated = zip_of([("form.json", b'{"a": 1}'), (f"media/{digest}", good)], zipfile.ZIP_DEFLATED)
    assert formcontent.decode(deflated) == ({"a": 1}, {digest: good})


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_form_content_corruption_raises_only_artefact_errors(data):
    """Flipped bytes in an inner zip (stored or deflated) never escape as anything but ArtefactError."""
    import hashlib
    image = bytes(range(256)) * 4
    digest = hashlib.sha256(image).hexdigest()
    method = data.draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    archive = zip_of([("form.json", b'{"form": {"id": "F1"}, "items": [1, 2, 3]}'), (f"media/{digest}", image)], method)
    pos = data.draw(st.integers(0, len(archive) - 1))
    bad = bytearray(archive)
    bad[pos] ^= 1 << data.draw(st.integers(0, 7))
    try:
        form, media = formcontent.decode(bytes(bad))
    except ArtefactError:
        return
    assert media == {digest: image} and form["form"] == {"id": "F1"}  # only harmless metadata changed

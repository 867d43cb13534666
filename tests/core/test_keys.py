import json
import os
import stat

import pytest
from hypothesis import given, settings, strategies as st

from exam_core import keys
from exam_core.errors import KeyFileError, MalformedError, WrongPassphraseError
from exam_core.jsonio import b64e


@pytest.mark.parametrize("make", [keys.generate_signing_key, keys.generate_hpke_key,
                                  lambda: keys.generate_hpke_key(keys.SUITE_X25519)])
def test_private_key_file_round_trip(tmp_path, make):
    key = make()
    path = tmp_path / "k.json"
    keys.save_private_key(path, key)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = keys.load_private_key(path)
    assert keys.key_id(loaded) == keys.key_id(key)
    assert keys.public_bytes(loaded) == keys.public_bytes(key)
    raw = keys._private_raw(loaded)
    assert raw == keys._private_raw(key)
    assert raw.hex() not in repr(loaded) and b64e(raw) not in repr(loaded)


def test_hybrid_key_survives_file_and_still_decrypts(tmp_path, hpke_key):
    from exam_core import hpke
    path = tmp_path / "h.json"
    keys.save_private_key(path, hpke_key)
    sealed = hpke.seal(hpke_key.public_key(), "receipt", b"x")
    assert hpke.open_sealed(keys.load_hpke_key(path), "receipt", sealed) == b"x"


def test_passphrase_round_trip_and_wrong_passphrase(tmp_path, signing_key):
    path = tmp_path / "k.json"
    keys.save_private_key(path, signing_key, passphrase="correct horse")
    content = path.read_text()
    assert b64e(signing_key.private_bytes_raw()) not in content
    assert keys.key_id(keys.load_private_key(path, "correct horse")) == keys.key_id(signing_key)
    with pytest.raises(WrongPassphraseError):
        keys.load_private_key(path, "wrong")
    with pytest.raises(KeyFileError, match="passphrase is required"):
        keys.load_private_key(path)


def test_encrypted_file_identity_is_bound(tmp_path, signing_key, other_signing_key):
    path = tmp_path / "k.json"
    keys.save_private_key(path, signing_key, passphrase="pw")
    doc = json.loads(path.read_text())
    other = keys.public_key_to_dict(other_signing_key.public_key())
    doc["key_id"], doc["public"] = other["key_id"], other["public"]
    path.write_text(json.dumps(doc))
    with pytest.raises(WrongPassphraseError):  # AAD binds key_id: swapping identity breaks the tag
        keys.load_private_key(path, "pw")


def test_passphrase_for_plain_file_refused(tmp_path, signing_key):
    path = tmp_path / "k.json"
    keys.save_private_key(path, signing_key)
    with pytest.raises(KeyFileError, match="not encrypted"):
        keys.load_private_key(path, "pw")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_readable_by_others_refused(tmp_path, signing_key, mode):
    path = tmp_path / "k.json"
    keys.save_private_key(path, signing_key)
    os.chmod(path, mode)
    with pytest.raises(KeyFileError, match=f"{mode:04o}"):
        keys.load_private_key(path)


def test_symlink_refused(tmp_path, signing_key):
    path = tmp_path / "k.json"
    keys.save_private_key(path, signing_key)
    (tmp_path / "link.json").symlink_to(path)
    with pytest.raises(KeyFileError):
        keys.load_private_key(tmp_path / "link.json")


def test_mismatched_public_refused(tmp_path, signing_key, other_signing_key):
    path = tmp_path / "k.json"
    keys.save_private_key(path, signing_key)
    doc = json.loads(path.read_text())
    doc["public"] = keys.public_key_to_dict(other_signing_key.public_key())["public"]
    path.write_text(json.dumps(doc))
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="do not match"):
        keys.load_private_key(path)


def test_crafted_argon2_parameters_refused(tmp_path, signing_key):
    path = tmp_path / "k.json"
    keys.save_private_key(path, signing_key, passphrase="pw")
    doc = json.loads(path.read_text())
    doc["encryption"]["memory_kib"] = 64 * 1024 * 1024
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyFileError, match="memory_kib"):
        keys.load_private_key(path, "pw")


@pytest.mark.parametrize("make", [lambda: keys.generate_signing_key().public_key(),
                                  lambda: keys.generate_hpke_key().public_key()])
def test_public_key_file_round_trip(tmp_path, make):
    public = make()
    path = tmp_path / "pub.json"
    keys.save_public_key(path, public, label="central")
    assert keys.key_id(keys.load_public_key(path)) == keys.key_id(public)


def test_key_ids_differ_by_kind():
    x = keys.generate_hpke_key(keys.SUITE_X25519)
    raw = x.public_key().raw
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    try:
        ed = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        pytest.skip("bytes are not a valid Ed25519 point")
    assert keys.key_id(ed) != keys.key_id(x.public_key())


def test_public_key_dict_checks_key_id(signing_key, other_signing_key):
    data = keys.public_key_to_dict(signing_key.public_key())
    data["key_id"] = keys.key_id(other_signing_key)
    with pytest.raises(MalformedError):
        keys.public_key_from_dict(data)



@pytest.fixture(scope="module")
def key_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("keyfiles")
    key = keys.generate_signing_key()
    keys.save_private_key(root / "plain.json", key)
    keys.save_private_key(root / "encrypted.json", key, passphrase="pw")
    return root, key


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_flipped_byte_in_a_key_file_refused(key_files, data):
    root, _key = key_files
    name = data.draw(st.sampled_from(["plain.json", "encrypted.json"]))
    original = (root / name).read_bytes()
    pos = data.draw(st.integers(0, len(original) - 2))  # the last byte is the newline
    bad = bytearray(original)
    bad[pos] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(KeyFileError):
        keys.parse_private_key_document(bytes(bad), "pw" if name == "encrypted.json" else None)

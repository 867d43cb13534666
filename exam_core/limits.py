"""Every size limit applied to data that crosses a trust boundary, in one place.

Parsers take their limit from here so a reviewer can audit them together; a caller that needs a
different bound passes it explicitly instead of editing a parser.
"""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB

#: Deepest nesting of JSON arrays/objects accepted anywhere.
JSON_MAX_DEPTH = 32
#: Default maximum size of one JSON document (signed documents, manifests, key files).
JSON_MAX_BYTES = 1 * MIB

#: A signed document (certificate, receipt, revocation list, header) as a whole.
SIGNED_DOC_MAX_BYTES = 1 * MIB
#: Key files (private and public).
KEY_FILE_MAX_BYTES = 64 * KIB

#: Form package (outer zip) as received.
PACKAGE_MAX_BYTES = 512 * MIB
#: Exact member count of a form package (manifest.json, manifest.sig, content.bin).
PACKAGE_MAX_MEMBERS = 3
#: manifest.json inside a package.
MANIFEST_MAX_BYTES = 64 * KIB
#: manifest.sig inside a package (a signature record, a few hundred bytes).
MANIFEST_SIG_MAX_BYTES = 4 * KIB
#: content.bin inside a package (nonce + ciphertext + tag).
CONTENT_MAX_BYTES = 500 * MIB
#: A member's compressed size may be at most this many times smaller than its declared size;
#: beyond it the member is treated as a zip bomb.
ZIP_MAX_COMPRESSION_RATIO = 200

#: Decrypted form content (inner zip): members, one member, total.
FORM_CONTENT_MAX_MEMBERS = 10_000
FORM_CONTENT_MAX_MEMBER_BYTES = 100 * MIB
FORM_CONTENT_MAX_TOTAL_BYTES = 500 * MIB
#: form.json inside the form content.
FORM_JSON_MAX_BYTES = 16 * MIB

#: A sealed response envelope as a whole, and its decrypted inner payload.
ENVELOPE_MAX_BYTES = 32 * MIB
ENVELOPE_PAYLOAD_MAX_BYTES = 16 * MIB
#: Final responses plus answer-history entries one envelope payload may carry (kiosk trims to it,
#: intake refuses past it).
ENVELOPE_MAX_RESPONSES = 20_000
#: Certificates in an envelope's chain.
CHAIN_MAX_CERTS = 4

#: HPKE plaintext accepted by ``exam_core.hpke.seal``.
HPKE_MAX_PLAINTEXT = 64 * MIB
#: Signed bundle document carried on removable media (``exam_core.sealed_file``), base64 included.
BUNDLE_MAX_BYTES = 1024 * MIB

#: Revocation list entries.
REVOCATION_MAX_SERIALS = 100_000

#: Argon2id parameters accepted from a file (bounded so a crafted file cannot exhaust memory).
ARGON2_MAX_MEMORY_KIB = 1024 * 1024
ARGON2_MAX_ITERATIONS = 16
ARGON2_MAX_LANES = 16

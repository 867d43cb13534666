"""What exam_core can do today, end to end, on real keys and a real database (run by scripts/demo).

Each step prints what it did and fails loudly (non-zero exit) if a security property does not
hold, so the demo doubles as a smoke test. It writes only under the directory it is given.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from exam_core import certs, hpke, keys, purposes, signing
from exam_core.audit import AuditLog
from exam_core.errors import AuditTamperedError, TamperedError, WrongPurposeError
from exam_core.store import open_db

console = Console(soft_wrap=True)


def step(text: str) -> None:
    console.print(f"[bold green]✓[/] {text}")


def main(workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    central, centre, kiosk = (keys.generate_signing_key() for _ in range(3))
    results_key = keys.generate_hpke_key()
    keys.save_private_key(workdir / "central.key.json", central)
    keys.save_public_key(workdir / "central.pub.json", central, label="Central body (demo)")
    keys.save_public_key(workdir / "results.pub.json", results_key, label="Central results key (demo)")
    step(f"keys generated: central {keys.key_id(central)}, results HPKE ({results_key.suite}) in {workdir}")

    root = certs.make_root_certificate(central, "central-demo", results_key.public_key())
    centre_cert = certs.issue_certificate(central, "central-demo", "centre-042", "centre", centre.public_key())
    kiosk_cert = certs.issue_certificate(centre, "centre-042", "kiosk-7", "kiosk", kiosk.public_key())
    (workdir / "central.cert.json").write_bytes(root)
    (workdir / "centre.cert.json").write_bytes(centre_cert)
    (workdir / "kiosk.cert.json").write_bytes(kiosk_cert)
    chain = certs.verify_chain([centre_cert, kiosk_cert], central.public_key(), leaf_role="kiosk")
    step("certificate chain central -> centre -> kiosk verified: " + " -> ".join(c.cert.subject for c in chain))

    answer = b'{"item":"q1","choice":"B"}'
    sealed = hpke.seal(results_key.public_key(), purposes.RESPONSE_PAYLOAD, signing.make_signed(
        kiosk, purposes.RESPONSE_PAYLOAD, answer))
    opened = hpke.open_sealed(results_key, purposes.RESPONSE_PAYLOAD, sealed)
    assert signing.open_signed(opened, kiosk.public_key(), purposes.RESPONSE_PAYLOAD).payload_bytes == answer
    step(f"kiosk-signed answer sealed to the results key ({len(sealed)} bytes) and opened by the central body")
    try:
        signing.open_signed(opened, kiosk.public_key(), purposes.RECEIPT)
        sys.exit("a signature for one purpose was accepted for another")
    except WrongPurposeError:
        step("the same signature presented for another purpose is refused (WrongPurposeError)")
    try:
        hpke.open_sealed(results_key, purposes.RESPONSE_PAYLOAD, sealed[:-1] + bytes([sealed[-1] ^ 1]))
        sys.exit("a modified ciphertext was opened")
    except TamperedError:
        step("one flipped bit in the sealed answer is refused (TamperedError)")

    db_path = workdir / "audit.db"
    db_path.unlink(missing_ok=True)
    log = AuditLog(open_db(db_path, synchronous="FULL"))
    for actor, action in [("proctor-ana", "candidate.admit"), ("proctor-ana", "kiosk.start"),
                          ("kiosk-7", "event.focus-lost"), ("proctor-ben", "kiosk.pause")]:
        log.append(actor, action, {"kiosk": "kiosk-7"})
    log.checkpoint(centre)
    report = log.verify(centre.public_key())
    step(f"audit log: {report.entries} entries chained, checkpoint signed and verified (head {report.head[:16]}...)")
    log.db.execute("UPDATE audit_log SET actor = 'nobody' WHERE seq = 3")
    try:
        log.verify(centre.public_key())
        sys.exit("a modified audit entry went unnoticed")
    except AuditTamperedError as exc:
        step(f"a modified audit entry is detected: {exc}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ".demo"))

"""The printable certificate: rendered to an image (pypdfium2), its QR code decoded (OpenCV's
QRCodeDetector) to the public verification page, and its text (the renderer's own extraction)
showing what ISO/IEC 17024 9.4 asks."""

from __future__ import annotations

import cv2
import numpy as np
import pypdfium2 as pdfium  # type: ignore[import-untyped]  # no stubs, no py.typed

from item_bank_sync.certificates.pdf import certificate_pdf
from tests.support.central_certificates import DECIDER, PUBLIC_URL, passed_world, pass_attempt


def render(pdf: bytes, scale: float = 3.0) -> tuple[np.ndarray, str]:
    """The first page as a grey image and its text."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        image = np.asarray(page.render(scale=scale).to_pil().convert("L"))
        text = page.get_textpage().get_text_range()
        return image, text
    finally:
        document.close()


def test_the_pdf_shows_the_certificate_and_its_qr_code_opens_the_verification_page(tmp_path):
    passed = passed_world(tmp_path / "central")
    try:
        pass_attempt(passed.world, "att-2", candidate_name="Zoë Łukasiewicz-Ørsted")
        registry = passed.registry()
        cert = registry.issue("att-2", DECIDER)
        url = registry.verify_url(cert.certificate_id)
        pdf = certificate_pdf(cert, "Test body", url)
    finally:
        passed.ctx.close()
    assert pdf.startswith(b"%PDF-")
    image, text = render(pdf)
    decoded, _points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert decoded == url == f"{PUBLIC_URL}/verify/{cert.certificate_id}"
    words = " ".join(text.split())
    assert cert.holder_name == "Zoë Łukasiewicz-Ørsted" and cert.holder_name in words
    for shown in (cert.certificate_id, "Test body", "S1, version 1", cert.valid_from[:10], cert.valid_until[:10],
                  "holder-agreement/1", "Valid", "Digitally signed by Test body"):
        assert shown in words, shown

"""The printable certificate: a one-page PDF with what ISO/IEC 17024 9.4 asks and a QR code to the
public verification page.

Why fpdf2: a small, pure-Python, actively kept PDF writer with TrueType embedding (holders' names
in any Latin, Greek or Cyrillic script) and images from memory; ReportLab would do too but is a far
larger toolkit than one page needs. The font is DejaVu Sans, which matplotlib (already a
dependency) ships, so no system font is assumed. The QR code is made by segno (already used for
the staff sign-in's TOTP QR). The PDF is a convenience copy: what makes a certificate trustworthy
is the signed credential and the live status behind the QR code, which the page says.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import segno
from fpdf import FPDF

from item_bank_sync.certificates.registry import Certificate

FONT = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
FONT_BOLD = FONT.with_name("DejaVuSans-Bold.ttf")
STATE_WORDS = {"valid": "Valid", "suspended": "SUSPENDED", "withdrawn": "WITHDRAWN", "expired": "EXPIRED",
               "scope reduced": "Valid (scope reduced)"}


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as PNG bytes (error correction M: survives a crease or a smudge)."""
    buffer = io.BytesIO()
    segno.make_qr(url, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def certificate_pdf(cert: Certificate, body_name: str, verify_url: str) -> bytes:
    """The PDF of one certificate, as bytes."""
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(f"Certificate {cert.certificate_id}")
    pdf.set_author(body_name)
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    pdf.add_page()
    _heading(pdf, body_name, cert)
    _facts(pdf, cert, body_name)
    pdf.image(io.BytesIO(qr_png(verify_url)), x=222, y=120, w=55, h=55)
    pdf.set_xy(200, 176)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(90, 4, f"Check this certificate's current status:\n{verify_url}", align="C")
    return bytes(pdf.output())


def _heading(pdf: FPDF, body_name: str, cert: Certificate) -> None:
    pdf.set_font("DejaVu", "B", 26)
    pdf.cell(0, 16, "Certificate", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 13)
    pdf.cell(0, 8, f"{body_name} certifies that", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 22)
    pdf.cell(0, 14, cert.holder_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 13)
    pdf.cell(0, 8, f"holds the certification {cert.scheme_title}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)


def _facts(pdf: FPDF, cert: Certificate, body_name: str) -> None:
    facts = [("Certificate id", cert.certificate_id),
             ("Scheme", f"{cert.scheme_id}, version {cert.scheme_version}"),
             ("Scope", "; ".join(cert.scope)),
             ("Effective", cert.valid_from[:10]),
             ("Expires", cert.valid_until[:10]),
             ("Status when printed", STATE_WORDS.get(cert.state, cert.state)),
             ("Holder agreement", f"{cert.agreement_version}, accepted {cert.agreement_accepted_at[:10]}"),
             ("Signature", f"Digitally signed by {body_name} (Open Badges 3.0 credential "
                           f"{cert.credential_id or 'none'})")]
    for label, value in facts:
        pdf.set_x(20)
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(45, 7, label)
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(140, 7, value, new_x="LMARGIN", new_y="NEXT")

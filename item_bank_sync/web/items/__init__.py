"""Staff pages of the item bank, item import and marking (issue 15 item 3, issue 18's import report).

``bank_pages`` (listing, item with candidate preview, versions diffed, review/approve/retire),
``import_pages`` (upload, report, confirm) and ``marking_pages`` (blind double marking with the
rubric, adjudication, agreement figures) are thin views over ``queries``, ``preview``, ``uploads``
and ``markwork``, which call the same bank and results functions as the CLI.
"""

from __future__ import annotations

from flask import Blueprint

from item_bank_sync.web.items.bank_pages import bp as bank_bp
from item_bank_sync.web.items.import_pages import bp as import_bp
from item_bank_sync.web.items.marking_pages import bp as marking_bp

#: Registered by ``item_bank_sync.web.pages`` (import before the bank's ``/items/<id>`` routes).
BLUEPRINTS: tuple[Blueprint, ...] = (import_bp, bank_bp, marking_bp)

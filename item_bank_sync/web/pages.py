"""Every blueprint of the staff application, registered by ``create_app`` in this order.

Add a page module with one line here (its blueprint's name is the prefix of its endpoints).
"""

from __future__ import annotations

from flask import Blueprint

from item_bank_sync.web.admin import bp as admin_bp
from item_bank_sync.web.audit import bp as audit_bp
from item_bank_sync.web.cases import bp as cases_bp
from item_bank_sync.web.centres import bp as centres_bp
from item_bank_sync.web.corrective import bp as corrective_bp
from item_bank_sync.web.certificates import bp as certificates_bp
from item_bank_sync.web.exam_review import bp as exam_review_bp
from item_bank_sync.web.forms import bp as forms_bp
from item_bank_sync.web.home import bp as home_bp
from item_bank_sync.web.intake import bp as intake_bp
from item_bank_sync.web.items import BLUEPRINTS as ITEM_BLUEPRINTS
from item_bank_sync.web.recertification import bp as recertification_bp
from item_bank_sync.web.review import bp as review_bp
from item_bank_sync.web.registry import bp as registry_bp
from item_bank_sync.web.release import bp as release_bp
from item_bank_sync.web.signin import bp as signin_bp
from item_bank_sync.web.sittings import bp as sittings_bp
from item_bank_sync.web.standard_setting import bp as standard_setting_bp

BLUEPRINTS: tuple[Blueprint, ...] = (
    signin_bp,
    home_bp,
    admin_bp,
    audit_bp,
    *ITEM_BLUEPRINTS,
    forms_bp, centres_bp, intake_bp, review_bp, exam_review_bp, standard_setting_bp, release_bp,
    registry_bp, sittings_bp,
    cases_bp, corrective_bp,
    certificates_bp, recertification_bp,
)

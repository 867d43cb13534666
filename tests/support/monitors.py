"""What the monitor tests share besides fixtures: where the YuNet face model is, and its digest.

The model ships in no wheel (see ../shared/models/README.md), so tests that need it skip when it
is absent; the detector refuses a file whose SHA-256 differs from the one pinned here.
"""

from __future__ import annotations

from tests.support.tools import REPO_ROOT

YUNET_MODEL = REPO_ROOT.parent / "shared" / "models" / "face_detection_yunet_2026may.onnx"
YUNET_SHA256 = "ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0"

"""The Chromium managed policy that confines the exam browser to the kiosk's own origin.

Chromium reads JSON files from its managed-policy directory (``/etc/chromium/policies/managed``
for Debian's build) at start, and a user cannot override them from the browser. The policy blocks
every URL except the kiosk origin, turns off everything that could leave the exam page or copy
its content out (developer tools, incognito, printing, downloads, screen capture, remote
debugging, extensions, translation and spell-check services, file dialogs), and allows the camera
to the kiosk origin only, without a prompt.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any
from collections.abc import Mapping

from hardening.errors import PolicyError

POLICY_FILE_NAME = "invigil-kiosk.json"


def kiosk_origin(url: str) -> str:
    """``scheme://host:port`` of the kiosk URL; only http(s) with an explicit host is accepted."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PolicyError("url", f"{url!r} is not an http(s) URL with a host")
    if parts.username or parts.password:
        raise PolicyError("url", "must not carry credentials")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}:{port}"


def core_policy(url: str) -> dict[str, Any]:
    origin = kiosk_origin(url)
    return {
        "URLBlocklist": ["*"],
        "URLAllowlist": [origin],
        "HomepageLocation": url,
        "RestoreOnStartup": 4,
        "RestoreOnStartupURLs": [url],
        "DeveloperToolsAvailability": 2,
        "IncognitoModeAvailability": 1,
        "BrowserGuestModeEnabled": False,
        "BrowserAddPersonEnabled": False,
        "PrintingEnabled": False,
        "DownloadRestrictions": 3,
        "AllowFileSelectionDialogs": False,
        "ScreenCaptureAllowed": False,
        "RemoteDebuggingAllowed": False,
        "ExtensionInstallBlocklist": ["*"],
        "VideoCaptureAllowed": False,
        "VideoCaptureAllowedUrls": [origin],
        "AudioCaptureAllowed": False,
        "TranslateEnabled": False,
        "SpellcheckEnabled": False,
        "SpellCheckServiceEnabled": False,
        "SearchSuggestEnabled": False,
        "PasswordManagerEnabled": False,
        "AutofillAddressEnabled": False,
        "AutofillCreditCardEnabled": False,
        "SharedClipboardEnabled": False,
        "BookmarkBarEnabled": False,
        "EditBookmarksEnabled": False,
        "TaskManagerEndProcessEnabled": False,
        "BackgroundModeEnabled": False,
        "DefaultNotificationsSetting": 2,
        "DefaultGeolocationSetting": 2,
        "DefaultPopupsSetting": 2,
        "GenAiDefaultSettings": 2,
        "MetricsReportingEnabled": False,
        "UrlKeyedAnonymizedDataCollectionEnabled": False,
    }


def build_policy(url: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The core policy plus site additions; an addition may not replace a core setting."""
    policy = core_policy(url)
    for key, value in (extra or {}).items():
        if key in policy:
            raise PolicyError(f"lockdown.chromium_extra.{key}", "may not replace a core lockdown policy")
        policy[key] = value
    return policy


def policy_bytes(url: str, extra: Mapping[str, Any] | None = None) -> bytes:
    return (json.dumps(build_policy(url, extra), indent=2, sort_keys=True) + "\n").encode("utf-8")

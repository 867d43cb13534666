"""Entry point of the single-file kiosk executable that scripts/build-kiosk builds.

One binary serves three uses: ``--version``, ``hardening ...`` (preflight, lockdown, restore,
measure, provision) and everything else goes to the kiosk CLI. The kiosk package is imported
only when needed, so a build made before the kiosk tier is complete still runs its hardening
commands and says plainly that the kiosk is missing.
"""

from __future__ import annotations

import multiprocessing
import sys


def _kiosk_version() -> str:
    try:
        from kiosk import __version__
    except ImportError:
        return "missing"
    return __version__


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:
        from exam_core import __version__ as core_version
        from hardening import __version__ as hardening_version

        frozen = "frozen" if getattr(sys, "frozen", False) else "source"
        print(f"invigil-kiosk {_kiosk_version()} (exam_core {core_version}, hardening {hardening_version}, {frozen})")
        return 0
    if argv[:1] == ["hardening"]:
        from hardening.cli import main as hardening_main

        hardening_main.main(args=argv[1:], prog_name="invigil-kiosk hardening")
        return 0
    try:
        from kiosk.cli import main as kiosk_main
    except ImportError as exc:
        print(f"invigil-kiosk: the kiosk package is missing from this build ({exc}); "
              "only --version and 'hardening ...' work", file=sys.stderr)
        return 3
    kiosk_main.main(args=argv, prog_name="invigil-kiosk")
    return 0


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())

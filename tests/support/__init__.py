"""Shared test worlds, fakes and helpers, imported by test modules and conftests (never a test module
imported by another; tests/test_layout.py checks). One module per world or tool, named by tier:

- anywhere: ``tools`` (repository root, the missing-tool rule), ``ports``, ``live_server``,
  ``processes``, ``pki`` (a small PKI, envelopes, packages), ``zips`` (hostile zip archives);
- central body: ``central_world``, ``central_db``, ``central_cli``, ``central_items``, ``central_sync``;
- console: ``console_world`` (a certified console, its server, simulated kiosks), ``console_room``;
- kiosk: ``kiosk_world`` (the trust world around a real device, the runtime), ``kiosk_session``,
  ``kiosk_fake_console``, ``kiosk_process``, ``kiosk_browser``, ``kiosk_pages``, ``monitors``;
- hardening: ``hardening_machine``, ``hit_log_server``, ``xobserver``, ``atspi``;
- cross-tier: ``kiosk_real_console``, ``demo_run``, ``faults_world``.

What bench or the demo also need lives in ``simulators/`` instead (the sample form, the trust
world), since nothing outside tests/ imports tests.
"""

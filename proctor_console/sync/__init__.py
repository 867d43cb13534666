"""The console's face towards the central body: the sync API client, a sync run (packages in,
envelopes and kiosk revocations out, receipts settled), and air-gap bundles. No click here: the
commands live in ``proctor_console.cli.sync``.
"""

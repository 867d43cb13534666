"""Simulated parts of an Invigil installation, for tests, the benchmarks and the demo.

Not part of any tier: they speak the wire protocols of ``exam_core`` as a real kiosk or a proctor's
browser does, and import nothing of the console, the kiosk or the central body, so a test that
drives the console with them exercises its real network endpoints.

- ``simulators.kiosk.SimKiosk``: a kiosk on the ``/kiosk`` namespace (pairing, challenge login,
  hello, heartbeats, events resent until acked, commands applied once).
- ``simulators.proctor.ProctorSocket``: a proctor's ``/proctor`` socket, synchronous on the
  asyncio client.
"""

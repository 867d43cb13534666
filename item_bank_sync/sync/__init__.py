"""The sync API and air-gap bundles: how test centres fetch packages and hand in envelopes.

``api`` (the Flask app), ``upload`` (the upload body, shared with bundles), ``auth`` (signed
requests), ``store`` (what the API reads from the data directory), ``server`` (waitress and TLS:
``tls_front``, ``tls_cert``) and ``bundle`` (the same content on removable media).
"""

"""The body's public site (ISO/IEC 17024 7.2): anyone may check whether a certificate is valid and
for what scope, by its id or the QR code on the PDF, or by name for holders who consented; the
issuer's keys (``/.well-known/jwks.json``) and the status-list credentials that verifiers of the
Open Badges credentials fetch.

::

    app.py        create_public_app(ctx): headers, rate limits, errors, the blueprints below
    limits.py     requests per address in a sliding window
    wellknown.py  /.well-known/jwks.json, /issuer, /status/<purpose>
    verify.py     the pages (/, /verify/<id>, /search) and the JSON API (/api/v1/...)
    server.py     the HTTPS listener (``python -m item_bank_sync public``)
"""

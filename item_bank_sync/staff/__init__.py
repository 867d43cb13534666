"""The central body's staff: accounts, roles, second factors, web sign-ins and who may do what.

``schema``   tables (bank store; Alembic revision bank_0006)
``roles``    the role names
``duties``   the one place that says which role each action needs, and "may X do Y, and if not why"
``accounts`` accounts, roles, passwords, TOTP enrolment (CLI and pages both call these)
``signins``  web sign-ins: password then code, back-off, server-side sessions
"""

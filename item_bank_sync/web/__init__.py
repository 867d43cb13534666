"""The certification body's staff web application (issue 15): Flask, HTTPS, one listener of its own.

``app``      ``create_app``: the app factory, security headers, CSRF on every POST, body limits
``server``   ``serve_web``: HTTPS (the body's own certificate or a given one) on waitress
``access``   ``current_staff``, ``require_role``, ``csrf_field``: who is signed in and what they may see
``pages``    ``BLUEPRINTS``: every page module's blueprint (add yours with one line)
``tables``   the server-side table (sort, filter, page) and its macro ``staff/_table.html``
``timefmt``  the ``when`` filter: times in the body's time zone, in words
``signin``, ``home``, ``admin``, ``audit``: the sign-in, home, staff administration and audit pages
"""

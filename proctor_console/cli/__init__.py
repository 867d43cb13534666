"""The console's command line (``python -m proctor_console``, ``invigil-console``).

``main.py`` holds the group and registers the commands, one module per area (setup, users,
kiosks, packages and roster, records, serve, sync, release allow-list). The commands parse
options, build the services they need from the data directory (``common.py``) and print; the
services write the audit entries, exactly as when the web face calls them.
"""

"""The central body's command line: :mod:`item_bank_sync.cli.main` is the group (the entry point
``invigil-central`` and ``python -m item_bank_sync``); one module per concern holds its commands.
"""

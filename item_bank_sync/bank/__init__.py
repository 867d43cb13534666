"""The item bank in ``bank.db``: its schema (``schema``), item versions and document control
(``store``) and content-addressed media (``media``). It stores what :mod:`item_bank_sync.items`
accepted; forms, centres and publishing build on it.
"""

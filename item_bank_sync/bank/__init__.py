"""The item bank in the bank store (``bank.db`` on SQLite): its tables (``schema``), item versions and document control
(``store``) and content-addressed media (``media``). It stores what :mod:`item_bank_sync.items`
accepted; forms, centres and publishing build on it.
"""

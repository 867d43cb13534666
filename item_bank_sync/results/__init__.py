"""What sittings produce, in the results store (``results.db`` on SQLite): its tables (``schema``), opening an envelope
(``envelope``), intake with receipts (``intake``) and release after review (``release``),
scoring (``scoring``), human marking (``marking``), certification decisions (``decisions``) and
integrity analysis (``integrity``).
"""

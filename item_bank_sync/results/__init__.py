"""What sittings produce, in ``results.db``: its schema (``schema``), opening an envelope
(``envelope``), intake with receipts (``intake``) and release after review (``release``),
scoring (``scoring``), human marking (``marking``), certification decisions (``decisions``) and
integrity analysis (``integrity``).
"""

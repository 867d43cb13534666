"""Mail the central body sends (the candidate portal's verification links and notices), through an
SMTP relay the body configures.

Why a relay and not direct delivery: the body's own mail server (or its provider) holds the
domain's SPF/DKIM and handles retries and bounces; the portal only has to hand a message over.
Settings live in the data directory (``mail.json``, written by :func:`save_settings` or the CLI):
host, port, sender address and whether to require STARTTLS (default: yes unless the relay is on
the loopback, where there is no wire to protect). Nothing here logs a message's body (it carries
single-use links) or its recipient.

Mail goes through the outbox (:mod:`item_bank_sync.mail.outbox`): written in the transaction of the
change that causes it, sent by a loop in the listener process or ``mail send-pending``, at least
once and de-duplicated by Message-ID. A relay that asks for a password gets it after STARTTLS,
from a file only its owner can read (:mod:`item_bank_sync.mail.sender`).
"""

from item_bank_sync.mail.sender import (MailError, MailSettings, Mailer, configured_mailer, load_settings,
                                        save_settings)

__all__ = ["MailError", "MailSettings", "Mailer", "configured_mailer", "load_settings", "save_settings"]

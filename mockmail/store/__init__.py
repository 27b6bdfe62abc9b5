"""Where messages live: the `MailStore` interface, its in-memory backend, and the message model.

The store knows no protocol: it holds CRLF content, UIDs, envelopes and how each message arrived.
"""

from ._interface import Mailbox, MailStore, check_new_uids
from ._message import UID_PATTERN, Envelope, Message, Via, check_uid, normalize_crlf
from .memory import MemoryMailbox, MemoryStore

__all__ = [
    "UID_PATTERN",
    "Envelope",
    "MailStore",
    "Mailbox",
    "MemoryMailbox",
    "MemoryStore",
    "Message",
    "Via",
    "check_new_uids",
    "check_uid",
    "normalize_crlf",
]

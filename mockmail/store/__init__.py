"""Where messages live: the `MailStore` interface, its backends (memory; SQLite under `--data-dir`), and
the message model.

The store knows no protocol: it holds CRLF content, UIDs, envelopes and how each message arrived.
"""

from ._interface import Mailbox, MailStore, check_new_uids
from ._message import UID_PATTERN, Envelope, Message, MessageSource, Via, check_uid, normalize_crlf
from .catalog import Catalog, MemoryCatalog, SavedTenant, SqliteCatalog
from .database import Database
from .memory import MemoryMailbox, MemoryStore
from .sqlite import SqliteMailbox, SqliteStore

__all__ = [
    "UID_PATTERN",
    "Catalog",
    "Database",
    "Envelope",
    "MailStore",
    "Mailbox",
    "MemoryCatalog",
    "MemoryMailbox",
    "MemoryStore",
    "Message",
    "MessageSource",
    "SavedTenant",
    "SqliteCatalog",
    "SqliteMailbox",
    "SqliteStore",
    "Via",
    "check_new_uids",
    "check_uid",
    "normalize_crlf",
]

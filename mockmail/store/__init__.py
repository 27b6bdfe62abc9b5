"""Where messages live: the `MailStore` interface, its backends (memory; SQL: SQLite under `--data-dir`,
PostgreSQL under `--store`), and the message model.

The store knows no protocol: it holds CRLF content, UIDs, envelopes and how each message arrived, and the
folders, IMAP UIDs and flags IMAP works with (`folders`); watchers hear of every change (`changes`).
"""

from ._interface import CommitFailed, FencedOut, Mailbox, MailStore, check_new_uids
from ._message import UID_PATTERN, Envelope, Message, MessageSource, Via, check_uid, normalize_crlf
from .catalog import Catalog, MemoryCatalog, SavedTenant, SqlCatalog
from .changes import (
    Arrived,
    Change,
    Expunged,
    FlagsChanged,
    FolderCreated,
    FolderDeleted,
    FolderRenamed,
    MailboxDeleted,
)
from .database import Database
from .folders import (
    INBOX,
    SYSTEM_FLAGS,
    FlagMode,
    FolderInfo,
    SpecialUse,
    check_flags,
    check_folder_name,
)
from .memory import MemoryMailbox, MemoryStore
from .sql_database import SqlDatabase
from .sql_store import SqlMailbox, SqlStore

# The names of the SQL store from when it held SQLite only.
SqliteCatalog = SqlCatalog
SqliteMailbox = SqlMailbox
SqliteStore = SqlStore

__all__ = [
    "INBOX",
    "SYSTEM_FLAGS",
    "UID_PATTERN",
    "Arrived",
    "Catalog",
    "Change",
    "CommitFailed",
    "Database",
    "Envelope",
    "Expunged",
    "FencedOut",
    "FlagMode",
    "FlagsChanged",
    "FolderCreated",
    "FolderDeleted",
    "FolderInfo",
    "FolderRenamed",
    "MailStore",
    "Mailbox",
    "MailboxDeleted",
    "MemoryCatalog",
    "MemoryMailbox",
    "MemoryStore",
    "Message",
    "MessageSource",
    "SavedTenant",
    "SpecialUse",
    "SqlCatalog",
    "SqlDatabase",
    "SqlMailbox",
    "SqlStore",
    "SqliteCatalog",
    "SqliteMailbox",
    "SqliteStore",
    "Via",
    "check_flags",
    "check_folder_name",
    "check_new_uids",
    "check_uid",
    "normalize_crlf",
]

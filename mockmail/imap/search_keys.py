"""The search-key nodes (RFC 9051 section 6.4.4), public under one name: `search_keys.Or`, `search_keys.Not`.

They live in `_search.py` with their parser; their names (`Or`, `Text`, `Sequence`) are too plain to sit
at the top of `mockmail.imap`.
"""

from ._search import (
    MAX_SEARCH_DEPTH,
    All,
    And,
    Body,
    DateOp,
    Flag,
    Header,
    InternalDate,
    Larger,
    Not,
    Or,
    Recent,
    SearchKey,
    SentDate,
    Sequence,
    Smaller,
    Text,
    Uid,
)

__all__ = [
    "MAX_SEARCH_DEPTH",
    "All",
    "And",
    "Body",
    "DateOp",
    "Flag",
    "Header",
    "InternalDate",
    "Larger",
    "Not",
    "Or",
    "Recent",
    "SearchKey",
    "SentDate",
    "Sequence",
    "Smaller",
    "Text",
    "Uid",
]

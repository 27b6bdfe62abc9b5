"""The filter parameters of the mailbox listing and of tenant search, read strictly from the query.

`?q=` and `?subject=`, `?sender=`, `?to=`, `?text=` are the filters of `mockmail.message.search`
(case-insensitive substrings).  Query parameters are strict: an unknown one, one given twice, or a value
that is empty or over `MAX_FILTER_LENGTH` characters is a 422 naming it, never a filter silently ignored.
"""

from __future__ import annotations

from quart import request

from mockmail.errors import InvalidInput
from mockmail.message.search import FILTER_NAMES, MessageFilter

__all__ = ["FILTER_NAMES", "MAX_FILTER_LENGTH", "check_params", "message_filter"]

MAX_FILTER_LENGTH = 1000
"""Characters a filter value may hold (the openapi.yaml `maxLength`)."""


def check_params(*known: str) -> None:
    """Refuse a query parameter the operation does not take, or one given more than once (422)."""
    for name in request.args:
        if name not in known:
            takes = ", ".join(known)
            raise InvalidInput(f"unknown query parameter {name!r}; this operation takes {takes}", field=name)
        if len(request.args.getlist(name)) > 1:
            raise InvalidInput(f"query parameter {name!r} is given more than once", field=name)


def message_filter() -> MessageFilter:
    """The filters of the request's query (each 1 to `MAX_FILTER_LENGTH` characters)."""
    given: dict[str, str] = {}
    for name in FILTER_NAMES:
        value = request.args.get(name)
        if value is None:
            continue
        if not 1 <= len(value) <= MAX_FILTER_LENGTH:
            raise InvalidInput(f"{name} is 1 to {MAX_FILTER_LENGTH:d} characters", field=name)
        given[name] = value
    return MessageFilter.of(**given)

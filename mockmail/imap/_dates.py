"""RFC 5322 section 3.3 dates (obsolete forms of section 4.3 included), read leniently for SEARCH and SORT."""

from __future__ import annotations

import datetime
import re

__all__ = ["parse_date"]

_DATE = re.compile(
    rb"^\s*(?:[A-Za-z]+\s*,?\s*)?(\d{1,2})[\s-]+([A-Za-z]{3})[A-Za-z]*\.?[\s-]+(\d{2,4})\s+"
    rb"(\d{1,2})\s*:\s*(\d{1,2})(?:\s*:\s*(\d{1,2}))?\s*([+-]\d{4}|[A-Za-z]+)?"
)
_MONTHS = {m: i for i, m in enumerate(b"jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_ZONES = {b"ut": 0, b"gmt": 0, b"z": 0, b"utc": 0, b"est": -5, b"edt": -4, b"cst": -6, b"cdt": -5,
          b"mst": -7, b"mdt": -6, b"pst": -8, b"pdt": -7}  # fmt: skip


def parse_date(value: bytes | None) -> datetime.datetime | None:
    """The moment a Date field value names, in its own zone; None when it names none.

    Two-digit years are 19xx from 50 and 20xx below, three-digit ones 1900 + n (RFC 5322 section 4.3);
    an unknown zone name (military letters included) is +0000.
    """
    if value is None:
        return None
    match = _DATE.match(value)
    if match is None:
        return None
    day, month_name, year_text, hour, minute, second, zone = match.groups()
    month = _MONTHS.get(month_name.lower())
    if month is None:
        return None
    year = int(year_text)
    if len(year_text) == 2:
        year += 2000 if year < 50 else 1900
    elif len(year_text) == 3:
        year += 1900
    if zone is None:
        offset = 0
    elif zone[:1] in b"+-":
        minutes = int(zone[1:3]) * 60 + int(zone[3:5])
        offset = -minutes if zone[:1] == b"-" else minutes
    else:
        offset = _ZONES.get(zone.lower(), 0) * 60
    try:
        tz = datetime.timezone(datetime.timedelta(minutes=offset))
        return datetime.datetime(year, month, int(day), int(hour), int(minute), int(second or 0), tzinfo=tz)
    except ValueError:  # 31 February, 25 o'clock, a zone of a day or more
        return None

"""Cell values as qos-xl keeps them, from python-calamine's: text unescaped and cut at Excel's limit, whole
numbers as int, dates and times as datetime, durations as a number of days.

Standard library only: the isolated reading worker (``intake/isolated.py``) relies on the
same conversion without loading anything else.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta

MAX_TEXT = 32_767                      # Excel's limit on the characters of one cell
TIME_DAY = date(1899, 12, 31)          # the day a time of day without a date is put on (Excel's day 0)
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_WIDE_ESCAPE = re.compile(r"_x(0[1-9A-Fa-f][0-9A-Fa-f]{2}|[1-9A-Fa-f][0-9A-Fa-f]{3})_")
_WHOLE = 2**53                         # whole floats below this are exact ints
_ONE_DAY = timedelta(days=1)


def _decoded(m: re.Match) -> str:
    return chr(int(m.group(1), 16))


def _text(text: str, pattern: re.Pattern) -> str:
    if "_x" in text:
        text = pattern.sub(_decoded, text)
        if any("\ud800" <= ch <= "\udfff" for ch in text):   # an escaped surrogate pair is one character
            text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text[:MAX_TEXT] if len(text) > MAX_TEXT else text


def xstring(text: str) -> str:
    """OOXML ST_Xstring as stored: every _xHHHH_ escape decoded, cut at Excel's 32,767 characters."""
    return _text(text, _ESCAPE)


def calamine_text(text: str) -> str:
    """Text as calamine gives it, finished: calamine decodes the _x00HH_ escapes only, so the
    wider ones (_xC1EF_, an escaped surrogate pair, _xFFFE_) are decoded here.

    What calamine turned into '_x00HH_' came from an escaped underscore ('_x005F_x00HH_')
    and stays as it is; a wider escape written out the same way cannot be told apart.
    """
    return _text(text, _WIDE_ESCAPE)


def duration_days(value: timedelta) -> float:
    return value / _ONE_DAY


def _number(value: float) -> int | float:
    if value.is_integer() and -_WHOLE < value < _WHOLE:
        return int(value)
    if not math.isfinite(value):
        raise ValueError(value)
    return value


def cell_value(value):
    """A calamine value -> qos-xl's; None for an empty cell; ValueError for a number that is not finite."""
    kind = type(value)
    if kind is str:
        return calamine_text(value) if value else None
    if kind is float:
        return _number(value)
    if kind is int or kind is bool or kind is datetime:
        return value
    if kind is date:
        return datetime(value.year, value.month, value.day)
    if kind is time:
        return datetime.combine(TIME_DAY, value.replace(tzinfo=None))
    if kind is timedelta:
        return _number(duration_days(value))
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return calamine_text(str(value)) or None

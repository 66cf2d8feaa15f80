"""Text shared by every stage: how a label or a value is compared, what a cell may hold, how wide text is on screen."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text(value: object) -> str:
    """A cell value as the text a user typed: str, stripped (incl. full-width spaces)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return ""
    if isinstance(value, float):
        if value != value:  # NaN: a missing value in a DataFrame
            return ""
        if value.is_integer():
            value = int(value)
    return str(value).strip().strip("\u3000").strip()


def texts(values) -> list[str]:
    """``text`` of many values; strings (nearly all cells) take the short way."""
    return [v.strip() if v.__class__ is str else text(v) for v in values]   # str.strip() takes U+3000 too


def key(value: object) -> str:
    """A comparison key: NFKC (full-width -> half-width), no white space, no control chars."""
    folded = unicodedata.normalize("NFKC", text(value))
    return _SPACE.sub("", _CONTROL.sub("", folded))


def strip_controls(value: str) -> str:
    """Drop control characters that cannot be stored in an xlsx cell."""
    return value if value.isprintable() else _CONTROL.sub("", value)   # printable: no control character


MAX_CELL_CHARS = 32_767
TRUNCATED_MARK = "…（內容過長，已截斷）"


def safe_text(value: object) -> str:
    """Untrusted text made storable: control characters dropped, length bounded with a visible mark.

    xlsxwriter writes a string that starts with ``<r>`` and ends with ``</r>`` into the
    shared-string table as raw rich-text XML: such text gets a trailing space, so that it
    is escaped like any other (typed markup must never become the workbook's XML).
    """
    text = strip_controls("" if value is None else str(value))
    if text.startswith("<r>") and text.endswith("</r>"):
        text += " "
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - len(TRUNCATED_MARK)] + TRUNCATED_MARK
    return text


class _CharWidths(dict):
    """Width of each character met (2: CJK and full-width), looked up once; a few thousand entries
    in practice, and at most ``LIMIT`` remembered whatever the input."""

    LIMIT = 70_000

    def __missing__(self, ch: str) -> int:
        width = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if len(self) < self.LIMIT:
            self[ch] = width
        return width


_CHAR_WIDTHS = _CharWidths()


def display_width(text: str) -> int:
    """Width in terminal columns and Excel character units: wide and full-width characters count two."""
    return len(text) if text.isascii() else sum(map(_CHAR_WIDTHS.__getitem__, text))

"""Text output that works in any encoding: what a character the console cannot show becomes instead of a traceback.

A zh-TW Windows PC writes redirected output (``qos-xl status > 狀況.txt``) in cp950 (Big5),
which has no ✔ or ✘; other consoles and schedulers use cp1252 or ASCII. ``make_output_safe``
gives standard output and standard error an error handler that writes, for each character
the encoding lacks, the first of its stand-ins the encoding has (✔ → √ → v), else its
compatibility form (full-width （ → ( in cp1252), else ``?`` — file names included.
``--json`` output is written as ASCII escapes when the encoding is not a Unicode one, so
the JSON stays exact.
"""

from __future__ import annotations

import codecs
import contextlib
import sys
import unicodedata

from qos_xl.core.text import display_width

HANDLER = "qos-xl-stand-in"

#: a symbol -> its stand-ins, best first (each tried in the stream's encoding)
STAND_INS = {
    "✔": ("√", "v"),
    "✘": ("×", "x"),
    "·": ("‧", "・", "-"),
    "•": ("‧", "・", "*"),
    "—": ("－", "-"),
    "→": ("->",),
    "…": ("...",),
    "「": ('"',),
    "」": ('"',),
    "　": (" ",),
}
UNICODE_ENCODINGS = {"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be",
                     "gb18030"}


def stand_in(char: str, encoding: str) -> str:
    """What ``char`` is written as in ``encoding``, which cannot encode it."""
    for candidate in (*STAND_INS.get(char, ()), unicodedata.normalize("NFKC", char)):
        with contextlib.suppress(UnicodeError):
            candidate.encode(encoding)
            return candidate
    return "?"


def _handle(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    lacking = error.object[error.start:error.end]
    return "".join(stand_in(char, error.encoding) for char in lacking), error.end


codecs.register_error(HANDLER, _handle)


def make_output_safe() -> None:
    """Standard output and error write stand-ins for what their encoding lacks (see the module docstring)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):   # not a text file, or already closed
            stream.reconfigure(errors=HANDLER)


# the double-byte code pages of East Asian Windows: a console or Notepad draws each two-byte character two columns wide
DOUBLE_BYTE = {"cp950", "big5", "big5hkscs", "cp936", "gbk", "cp932", "shift_jis", "cp949", "euc_kr", "euc_jp"}


def columns(text: str, stream=None) -> int:
    """How many columns ``text`` takes once written to ``stream`` (standard output by default), stand-ins included.

    In a double-byte code page a character takes as many columns as it has bytes there: √, the
    stand-in for ✔ in Big5, is drawn full-width though ✔ itself is narrow."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return display_width(text)
    if name in DOUBLE_BYTE:
        return len(text.encode(name, errors=HANDLER))
    return display_width(text)


def writes_unicode(stream=None) -> bool:
    """Whether ``stream`` (standard output by default) can encode every character."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        return codecs.lookup(encoding).name in UNICODE_ENCODINGS
    except LookupError:
        return False

"""Header text as a user reads it: ``email.policy.default`` decodes, after a shim for mail as it
really arrives in Taiwan.

The shim does three things before ``policy.default`` sees a header value:

* **raw 8-bit bytes** (outside encoded words) carry no charset, so they are decoded in one
  order (``decode_raw``): valid UTF-8 (one character cut short is dropped, as Yahoo cuts
  long names); else a charset the message itself declares (any part's ``charset=``, any encoded
  word's label); else Big5 read as cp950, the bureau's default; and when nothing fits, the
  reading with the fewest replacement characters, never a wrong script where a declared
  charset exists;
* **charset labels** that Python's codecs read too narrowly are renamed: ``big5`` text is
  cp950 (ETEN extension characters such as 碁銹裏墻), ``gb2312``/``gbk`` text is GB18030,
  ``ks_c_5601-1987`` is cp949, ``shift_jis`` is cp932, ``iso-2022-jp`` may hold NEC
  extension characters (``ISO_2022_JP_NEC``);
* a character split across two encoded words (old Big5 mailers do it, though RFC 2047 does
  not allow it) is joined back into one word;
* folded lines are unfolded, as ``policy.default`` does when it reads a header.

Raw bytes inside an encoded word stay as they came: ``policy.default`` decodes them with the
word's own charset.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime as dt
import re
from email import policy
from email.utils import parseaddr, parsedate_to_datetime

from qos_xl.core.text import strip_controls

TAIPEI = dt.timezone(dt.timedelta(hours=8), "Asia/Taipei")
ISO_2022_JP_NEC = "qos-iso-2022-jp-nec"

# label (lower case) -> the codec that reads what mailers really send under it
CHARSET_ALIASES = {
    "big5": "cp950", "x-big5": "cp950", "big-5": "cp950", "big5-eten": "cp950", "cn-big5": "cp950",
    "ms950": "cp950", "windows-950": "cp950", "x-x-big5": "cp950",
    "gb2312": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030", "gbk": "gb18030", "euc-cn": "gb18030",
    "cp936": "gb18030", "windows-936": "gb18030",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949",
    "shift_jis": "cp932", "shift-jis": "cp932", "x-sjis": "cp932", "sjis": "cp932",
    "iso-2022-jp": ISO_2022_JP_NEC, "csiso2022jp": ISO_2022_JP_NEC,
}
# codecs that cannot read a run of raw header bytes (not ASCII-compatible, or stateful)
_NOT_FOR_RAW = ("utf_16", "utf_32", "utf_7", "iso2022", "hz", ISO_2022_JP_NEC)
_PLAIN = ("ascii", "utf_8")

_EW = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_EW_PARTS = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_EW_RUN = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=(?:[ \t]*=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)+")
_EW_LABEL = re.compile(r"(=\?)([^?*\s]+)((?:\*[^?\s]*)?\?[bBqQ]\?)")
_RFC2231_LABEL = re.compile(r"(\*\s*=\s*\"?)([A-Za-z0-9_.:+-]+)(')")
_AFTER_A_CUT = (b"", b'"', b"'", b";", b" ", b"\t", b"\r", b"\n")
_SURROGATES = re.compile("[\udc80-\udcff]")
_LINE_BREAKS = re.compile(r"[\r\n]")
_SPACES = re.compile(r"\s+")
_ANGLE_ADDRESS = re.compile(r"\s*(.*?)\s*<([^<>\s]*)>\s*")


# ---------------------------------------------------------------------------------------
# ISO-2022-JP as Outlook writes it: JIS X 0208 plus NEC row 13 (①, №, ㈱…)


def _decode_iso2022jp_nec(data, errors: str = "strict") -> tuple[str, int]:
    data = bytes(data)
    try:
        return data.decode("iso2022_jp"), len(data)
    except UnicodeDecodeError:
        pass
    try:  # JIS X 0213 plane 1 is JIS X 0208 plus row 13 and more, at the same code points
        return data.replace(b"\x1b$B", b"\x1b$Q").replace(b"\x1b$@", b"\x1b$Q").decode("iso2022_jp_2004"), len(data)
    except UnicodeDecodeError:
        return data.decode("iso2022_jp", "replace"), len(data)


def _search(name: str):
    if name.replace("-", "_") == ISO_2022_JP_NEC.replace("-", "_"):
        return codecs.CodecInfo(name=ISO_2022_JP_NEC, encode=codecs.lookup("iso2022_jp").encode,
                                decode=_decode_iso2022jp_nec)
    return None


codecs.register(_search)


# ---------------------------------------------------------------------------------------
# Bytes


def codec(label: str | None) -> str | None:
    """The codec that reads text labelled ``label`` (aliases applied), or None for an unknown label."""
    name = (label or "").strip().strip('"').lower()
    name = CHARSET_ALIASES.get(name, name)
    if not name or name in ("unknown-8bit", "x-unknown", "unknown"):
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _strict(raw: bytes, name: str) -> str | None:
    """``raw`` in ``name``, or None.  One character cut short (an unfinished sequence at the end of
    the text, of a quoted name or of a word, as mailers cut long names) is dropped, when the rest
    holds other non-ASCII text of that charset to vouch for it."""
    try:
        return raw.decode(name)
    except LookupError:
        return None
    except UnicodeDecodeError as exc:
        start, end = exc.start, exc.end
    if not all(byte >= 0x80 for byte in raw[start:end]) or raw[end:end + 1] not in _AFTER_A_CUT:
        return None
    try:
        text = raw[:start].decode(name) + raw[end:].decode(name)
    except UnicodeDecodeError:
        return None
    return None if text.isascii() else text


def decode_raw(raw: bytes, declared: tuple[str, ...] = ()) -> str:
    """Raw 8-bit text with no charset of its own: UTF-8, else a declared charset, else cp950."""
    for name in ("utf-8", *declared, "cp950"):
        text = _strict(raw, name)
        if text is not None:
            return text
    # nothing fits: a reading that decodes far more than it replaces (a Big5 name with one bad byte),
    # else UTF-8 with replacement characters rather than a wrong script
    readings = [raw.decode(name, "replace") for name in ("utf-8", *declared[:1], "cp950")]
    plausible = [text for text in readings if _plausible(text)]
    return min(plausible, key=lambda text: text.count("\ufffd")) if plausible else readings[0]


def _plausible(text: str) -> bool:
    replaced = text.count("\ufffd")
    decoded = sum(1 for ch in text if ch > "\x7f") - replaced
    return decoded >= 2 * replaced + 1


def _raw_codecs(labels) -> tuple[str, ...]:
    """The codecs for raw bytes among ``labels``: known, ASCII-compatible, not UTF-8, in order, once."""
    found: list[str] = []
    for label in labels:
        name = codec(label)
        if name and name not in _PLAIN and not name.startswith(_NOT_FOR_RAW) and name not in found:
            found.append(name)
    return tuple(found)


# ---------------------------------------------------------------------------------------
# Header values


def _shim(value: str, declared: tuple[str, ...]) -> str:
    """A raw header value made ready for ``policy.default``: unfolded, 8-bit runs outside encoded
    words decoded, charset labels renamed."""
    value = _LINE_BREAKS.sub("", value)
    if _SURROGATES.search(value):
        pieces, last = [], 0
        for word in _EW.finditer(value):
            pieces += [_decode_8bit(value[last:word.start()], declared), word.group()]
            last = word.end()
        pieces.append(_decode_8bit(value[last:], declared))
        value = "".join(pieces)
    if "=?" in value:
        value = _EW_RUN.sub(_join_split_characters, value)
        value = _EW_LABEL.sub(_rename, value)
    if "'" in value:
        value = _RFC2231_LABEL.sub(_rename, value)
    return value


def _decode_8bit(text: str, declared: tuple[str, ...]) -> str:
    if not _SURROGATES.search(text):
        return text
    return decode_raw(text.encode("utf-8", "surrogateescape"), declared)


def _word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        if encoding in "bB":
            return base64.b64decode(text + "=" * (-len(text) % 4))
        return binascii.a2b_qp(text.encode("ascii"), header=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def _decodes(raw: bytes, name: str) -> bool:
    try:
        raw.decode(name)
        return True
    except UnicodeDecodeError:
        return False


def _join_split_characters(run: re.Match) -> str:
    """Adjacent encoded words of one charset that only decode together, as one B word."""
    words = list(_EW_PARTS.finditer(run.group()))
    name = codec(words[0].group(1)) if len(words) > 1 else None
    if name is None or len({word.group(1).lower() for word in words}) != 1:
        return run.group()
    chunks = [_word_bytes(word.group(2), word.group(3)) for word in words]
    if None in chunks or all(_decodes(chunk, name) for chunk in chunks):
        return run.group()
    joined = b"".join(chunks)
    if not _decodes(joined, name):
        return run.group()
    return f"=?{words[0].group(1)}?B?{base64.b64encode(joined).decode('ascii')}?="


def _rename(match: re.Match) -> str:
    label = match.group(2)
    alias = CHARSET_ALIASES.get(label.lower())
    return f"{match.group(1)}{alias or label}{match.group(3)}"


def one_line(text: str) -> str:
    """Header text on one line: no control characters, runs of white space as one space."""
    return _SPACES.sub(" ", strip_controls(text.replace("\r", " ").replace("\n", " "))).strip()


class Decoder:
    """Reads the headers of one message (and of its parts) with the charsets that message declares."""

    def __init__(self, declared: tuple[str, ...] = ()):
        self.declared = declared

    @classmethod
    def for_message(cls, msg) -> Decoder:
        """A decoder that knows every charset ``msg`` declares: parts' ``charset=``, encoded words' labels."""
        labels: list[str] = []
        for part in msg.walk():
            for _name, value in part.raw_items():
                value = str(value)
                labels += [m.group(2) for m in _EW_LABEL.finditer(value)]
                labels += [m.group(2) for m in _RFC2231_LABEL.finditer(value)]
            try:
                charset = part.get_param("charset")
            except Exception:
                charset = None
            if isinstance(charset, str):
                labels.append(_SURROGATES.sub("", charset))
        return cls(_raw_codecs(labels))

    def raw(self, part, name: str) -> str | None:
        """The first header ``name`` of ``part``, shimmed, not yet decoded (None when absent)."""
        for key, value in part.raw_items():
            if key.lower() == name.lower():
                return _shim(str(value), self.declared)
        return None

    def header(self, part, name: str):
        """The first header ``name`` as ``policy.default`` reads it (a header object), or None."""
        value = self.raw(part, name)
        if value is None:
            return None
        try:
            return policy.default.header_factory(name, value)
        except Exception:           # a value the header parser cannot take: read as plain text below
            return None

    def text(self, part, name: str) -> str:
        """A header as one line of text a user reads."""
        value = self.raw(part, name)
        if value is None:
            return ""
        try:
            decoded = str(policy.default.header_factory("X-Text", value))
        except Exception:
            decoded = value
        return one_line(decoded)

    def sender(self, part, name: str = "From") -> tuple[str, str]:
        """(display name, address) of the first address in header ``name``; either may be ""."""
        header = self.header(part, name)
        addresses = getattr(header, "addresses", None) if header is not None else None
        if addresses:
            first = addresses[0]
            display, address = one_line(first.display_name or ""), one_line(first.addr_spec or "")
        else:
            display, address = parseaddr(self.text(part, name))
        if "@" not in address:
            display, address = display or address, ""
        return display.strip('"').strip(), address

    def params(self, part, name: str) -> dict:
        header = self.header(part, name)
        try:
            return dict(getattr(header, "params", None) or {})
        except Exception:
            return {}

    def filename(self, part) -> str:
        """An attachment's file name: Content-Disposition ``filename``, else Content-Type ``name``."""
        for header, key in (("Content-Disposition", "filename"), ("Content-Type", "name")):
            value = self.params(part, header).get(key)
            if value:
                return one_line(_decode_8bit(str(value), self.declared))
        return ""


def display_and_address(value: str) -> tuple[str, str]:
    """``Name <address>`` as extract-msg composes a sender (the name is not quoted: a comma stays in it)."""
    value = one_line(value)
    match = _ANGLE_ADDRESS.fullmatch(value)
    if match:
        display, address = match.group(1).strip('"').strip(), match.group(2)
        return (display, address) if "@" in address else (display or address, "")
    return ("", value) if "@" in value and " " not in value else (value, "")


def parse_date(raw: str | None) -> dt.datetime | None:
    """A Date header as Taipei time, or None when it is missing, unreadable or outside the ROC years."""
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return taipei(when)


def taipei(when: dt.datetime | None) -> dt.datetime | None:
    """``when`` in Taipei time to the second (a time without zone is taken as Taipei's), or None outside
    the years qos-xl can write."""
    if when is None or not 1912 <= when.year <= 2110:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=TAIPEI)
    return when.astimezone(TAIPEI).replace(microsecond=0)

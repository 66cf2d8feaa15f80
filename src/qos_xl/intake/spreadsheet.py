"""The lowest layer: a file on disk -> sparse sheets of cell values, or a precise ``FileProblem``.

The files come from outside (units e-mail them in), so everything here assumes they may be
broken or hostile:

* the format is decided from the CONTENT (``sniff``), never from the file name;
* ZIP packages are checked from their central directory before anything is inflated
  (member count, sizes, compression ratio, duplicate and overlapping members), and every
  member is inflated by our own guarded reader that stops as soon as more comes out than
  was declared or allowed, and checks the CRC;
* every XML part that is parsed goes through defusedxml (no DTD, no entities, no external
  references), and the prolog of every XML part of the package is scanned for
  ``<!DOCTYPE`` / ``<!ENTITY`` even when we do not parse that part;
* .xlsx/.xlsm are read by a streaming reader of our own that never looks at the
  ``<dimension>`` tag and stores only non-empty cells, so a lone cell at XFD1048576 costs
  nothing;
* .xls, .xlsb and .ods are read by python-calamine in a separate process under an address
  space limit and a timeout, and its answer comes back as JSON (never pickle).
"""

from __future__ import annotations

import codecs
import datetime as _dt
import json
import math
import os
import posixpath
import re
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from urllib.parse import unquote
from xml.etree.ElementTree import ParseError

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from qos_xl.process import paused_gc
from qos_xl.core import platform
from qos_xl.core.problems import FileProblem, column_letter
from qos_xl.intake.sniff import SNIFF_BYTES, SPREADSHEET_2003, detected_noun, sniff, sniff_head
from qos_xl.intake.zipguard import CHUNK, Limits, Package, corrupt, human_size, read_all, scan_prologs

__all__ = ["ErrorValue", "Limits", "Sheet", "Workbook", "open_workbook", "sniff"]


# ------------------------------------------------------------------------------------------
# public types
# ------------------------------------------------------------------------------------------


class ErrorValue(str):
    """An Excel error like '#DIV/0!' read from a cell."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"ErrorValue({str.__repr__(self)})"


@dataclass
class Sheet:
    name: str
    state: str = "visible"                                     # "visible" | "hidden" | "veryHidden"
    cells: dict[tuple[int, int], object] = field(default_factory=dict)
    uncached: set[tuple[int, int]] = field(default_factory=set)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    skipped: bool = False                                      # not parsed: the caller did not want it

    @property
    def max_row(self) -> int:
        return max(max(map(itemgetter(0), self.cells), default=0), max(map(itemgetter(0), self.uncached), default=0))

    @property
    def max_col(self) -> int:
        return max(max(map(itemgetter(1), self.cells), default=0), max(map(itemgetter(1), self.uncached), default=0))


@dataclass
class Workbook:
    format: str                                  # "xlsx" | "xlsm" | "xls" | "xlsb" | "ods"
    sheets: list[Sheet] = field(default_factory=list)
    date1904: bool = False
    has_macros: bool = False                     # never executed, never copied


# ------------------------------------------------------------------------------------------
# entry point
# ------------------------------------------------------------------------------------------


def open_workbook(path, limits: Limits = Limits(), wanted=None) -> Workbook:
    """Read the workbook at ``path`` into sparse sheets; raise ``FileProblem`` when it cannot be read.

    ``wanted(name, state)`` may spare parsing sheets the caller does not need (xlsx only):
    those come back empty with ``skipped`` set.
    """
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except OSError:
        raise FileProblem("file-corrupt", detail="無法開啟檔案") from None
    if not stat.S_ISREG(st.st_mode):
        raise FileProblem("file-corrupt", detail="不是一般檔案")
    if st.st_size == 0:
        raise FileProblem("file-empty")
    if st.st_size > limits.max_file_bytes:
        raise FileProblem("file-too-large", size=human_size(st.st_size), limit=human_size(limits.max_file_bytes))
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        if not head:
            raise FileProblem("file-empty")
        kind = sniff_head(head, st.st_size)
        if kind == "zip":
            return _open_zip(f, path, st.st_size, limits, wanted)
        if kind == "ole":
            f.seek(0)
            data = f.read(limits.max_file_bytes + 1)
            return _open_ole(data, path, limits)
    if kind == "text" and SPREADSHEET_2003 in head[:4096].lower():
        raise FileProblem("format-unreadable", format="Excel 2003 XML", detail="不支援舊式 XML 試算表")
    raise FileProblem("file-not-spreadsheet", detected=detected_noun(kind, head))


# ------------------------------------------------------------------------------------------
# OLE2 (.xls, encrypted OOXML)
# ------------------------------------------------------------------------------------------


def _u16(name: str) -> bytes:
    return name.encode("utf-16-le")


_OLE_ENCRYPTED = (_u16("EncryptedPackage"), _u16("EncryptionInfo"))
_OLE_WORKBOOK = (_u16("Workbook"), _u16("Book") + b"\x00\x00")
_OLE_VBA = _u16("_VBA_PROJECT")


def _open_ole(data: bytes, path: str, limits: Limits) -> Workbook:
    # Directory entry names are stored as UTF-16LE in the directory sectors: a byte search
    # finds them without parsing the compound file (a false positive only makes us refuse).
    if any(name in data for name in _OLE_ENCRYPTED):
        raise FileProblem("file-encrypted")
    if not any(name in data for name in _OLE_WORKBOOK):
        if _u16("WordDocument") in data:
            raise FileProblem("file-not-spreadsheet", detected="Word 文件（.doc）")
        if _u16("PowerPoint Document") in data:
            raise FileProblem("file-not-spreadsheet", detected="PowerPoint 簡報（.ppt）")
    book = _calamine_read(path, "xls", limits)
    book.has_macros = book.has_macros or _OLE_VBA in data
    return book


# ------------------------------------------------------------------------------------------
# XML: prolog scan and defused streaming parse
# ------------------------------------------------------------------------------------------

class _Stop(Exception):
    """Raised by a handler to end a parse early (everything needed has been read)."""


class _NoTarget:
    def close(self):
        return None


_LOCAL_NAMES: dict[str, str] = {}


def _local(tag: str) -> str:
    """'{ns}name' as expat reports it ('ns}name') -> 'name'."""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag.rpartition("}")[2]
        if len(_LOCAL_NAMES) < 4096:
            _LOCAL_NAMES[tag] = name
    return name


def _defused_parser() -> DefusedXMLParser:
    """defusedxml's parser, less ElementTree's default handler.

    That handler would get every token none of ours takes, to do nothing with it: its
    undefined-entity and DOCTYPE cases cannot arise once defusedxml refuses DTDs.
    """
    parser = DefusedXMLParser(target=_NoTarget(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.parser.DefaultHandlerExpand = None
    return parser


def _parse(pkg: Package, info: zipfile.ZipInfo, start, end=None, data=None, raw: bytes | None = None) -> None:
    """Stream one member (or ``raw``, its bytes already inflated) through defusedxml's parser
    into raw expat handlers.

    Handlers get expat's names ('ns}local') and attributes as a dict keyed by the raw
    attribute names ('r', or 'ns}id' for a prefixed one).  The DTD/entity/external-reference
    guards defusedxml installs on the same expat parser stay in place.
    """
    name = info.filename[:80]
    parser = _defused_parser()
    expat = parser.parser
    expat.ordered_attributes = 0
    expat.StartElementHandler = start
    if end is not None:
        expat.EndElementHandler = end
    if data is not None:
        expat.CharacterDataHandler = data
    stream = pkg.open(info) if raw is None else None
    try:
        try:
            if stream is None:
                parser.feed(raw)
            else:
                while chunk := stream.read(CHUNK):
                    parser.feed(chunk)
            parser.close()
        except _Stop:
            return
    except ParseError as e:
        line = getattr(e, "position", (0, 0))[0]
        raise corrupt(f"{name} 第 {line} 行 XML 格式錯誤") from None
    except DTDForbidden:
        raise FileProblem("xml-unsafe", detail=f"DOCTYPE 宣告 於 {name}") from None
    except EntitiesForbidden:
        raise FileProblem("xml-unsafe", detail=f"ENTITY 宣告 於 {name}") from None
    except ExternalReferenceForbidden:
        raise FileProblem("xml-unsafe", detail=f"外部實體參照 於 {name}") from None
    except RecursionError:
        raise corrupt(f"{name} 的 XML 巢狀過深") from None
    except (KeyError, IndexError):
        raise
    except (LookupError, ValueError, UnicodeError):   # unknown/unsupported declared encoding
        raise corrupt(f"{name} 的 XML 編碼無法辨識") from None


def _rel_id(attrs: dict) -> str:
    """The r:id attribute, whatever the relationships namespace (transitional or strict)."""
    for key, value in attrs.items():
        if key.endswith("}id"):
            return value
    return ""


# ------------------------------------------------------------------------------------------
# XML fast path: expat without handlers for safety, then regular expressions for the data
# ------------------------------------------------------------------------------------------
#
# Worksheets and the shared string table are most of what is parsed, and expat calling a
# Python handler for every element was most of that cost.  So a member up to
# _FAST_MAX_BYTES is read whole through the guarded stream, parsed by the same defused
# expat parser with no handlers (C only), and, when that parse accepts it, tokenized by the
# regular expressions below, which know the shapes Excel, LibreOffice, openpyxl and
# xlsxwriter write.  Tokens must follow each other with nothing in between.  A member the
# parse refuses, that fails to inflate, or with any part in another shape (prefixed names,
# comments or CDATA in the data, single-quoted attributes, ...) is read again through the
# expat callbacks, which stay the reference: they raise the same problems in the same
# order as they always did.

_FAST_PATH = True                  # tests turn it off to compare both paths
_FAST_MAX_BYTES = 4 * 2**20        # larger members are streamed: reading them whole costs memory
_WINDOW = 2**18                    # characters of <sheetData> tokenized at once (at least)

_ENCODING_DECL = re.compile(rb"<\?xml[^?<>]*?encoding[ \t\r\n]*=[ \t\r\n]*[\"']([^\"']*)[\"']")


def _utf8_start(raw: bytes) -> int | None:
    """Where the text of a UTF-8 part starts (after its BOM); None when it is in another encoding."""
    skip = 3 if raw.startswith(codecs.BOM_UTF8) else 0
    head = raw[skip: skip + 2]
    if head in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head:
        return None
    declared = _ENCODING_DECL.match(raw, skip)
    if declared is not None and declared.group(1).lower() != b"utf-8":
        return None
    return skip


def _well_formed(data: bytes) -> bool:
    """Whether expat, under defusedxml's guards and with no handlers of ours, accepts ``data``."""
    parser = _defused_parser()
    try:
        parser.feed(data)
        parser.close()
    except (ParseError, ValueError, LookupError):   # defusedxml's refusals are ValueErrors
        return False
    return True


_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_REFERENCE = re.compile(r"&(#x[0-9A-Fa-f]++|#[0-9]++|[^;]++);")
_LINE_END = re.compile(r"\r\n?")
_ATTRIBUTE_SPACE = re.compile(r"\r\n?|[\t\n]")


def _referenced(m: re.Match) -> str:
    """The character a predefined entity or a character reference stands for."""
    ref = m.group(1)
    if ref[0] != "#":
        return _PREDEFINED[ref]
    if ref[1] == "x":
        return chr(int(ref[2:], 16))
    return chr(int(ref[1:].lstrip("0")))      # expat allows any number of leading zeros: int() does not


def _char_data(raw: str) -> str:
    """Character data of a well-formed part as expat reports it: line ends as LF, references decoded."""
    if "\r" in raw:
        raw = _LINE_END.sub("\n", raw)
    if "&" in raw:
        raw = _REFERENCE.sub(_referenced, raw)
    return raw


def _attribute_value(raw: str) -> str:
    """An attribute value as expat reports it: each white-space character a space, references decoded."""
    if "\t" in raw or "\n" in raw or "\r" in raw:
        raw = _ATTRIBUTE_SPACE.sub(" ", raw)
    if "&" in raw:
        raw = _REFERENCE.sub(_referenced, raw)
    return raw


_ATTRIBUTE = re.compile(r"([^ \t\r\n=]++)[ \t\r\n]*+=[ \t\r\n]*+(?:\"([^\"]*+)\"|'([^']*+)')")


def _attributes(source: str) -> dict[str, str]:
    """The unprefixed attributes in a start tag's attribute text, keyed as expat keys them."""
    found = {}
    for name, double, single in _ATTRIBUTE.findall(source):
        if ":" not in name and name != "xmlns":
            found[name] = _attribute_value(double or single)
    return found


# Any construct of a well-formed part; group 4 catches what is not expected there (nothing
# after expat's check, short of a DOCTYPE, which defusedxml refuses).
_MARKUP = re.compile(
    r"[^<]++|<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>"
    r"|<([^ \t\r\n/>!?]++)((?>(?:[ \t\r\n]++[^ \t\r\n=]++[ \t\r\n]*+=[ \t\r\n]*+(?:\"[^\"]*+\"|'[^']*+'))*))"
    r"[ \t\r\n]*+(/?)>"
    r"|</[^>]*+>|(<)",
    re.S,
)

# Pieces of the shapes writers use.  Quantifiers are possessive so that no input, however
# long its runs of spaces, makes a match backtrack more than linearly; "(?:x|)" is a faster
# "(?:x)?" for the regular expression engine.  A repeated group is made possessive as
# "(?>(?:...)*)", never "(?:...)*+": Python 3.11.0-3.11.4 (Debian 12 ships 3.11.2) match the
# latter wrongly when the group can fail part-way (CPython gh-106052, fixed in 3.11.5).
_S = r"[ \t\r\n]*+"
_ATTRS = r'(?>(?:[ \t\r\n]++[^ \t\r\n=/>"]++="[^"]*+")*)'           # double-quoted, no spaces around =
_VALUE = r'[^"&<\t\n\r]++'                                       # not empty, and as expat reports it
_CHARS = r"[^<]*+"
_T = rf"<t{_ATTRS}{_S}(?:>{_CHARS}</t>|/>)"
_RPR_CHILDREN = "rFont|charset|family|b|i|strike|outline|shadow|condense|extend|color|sz|u|vertAlign|scheme"
_RPR = rf"<rPr{_S}(?:/>|>(?>(?:{_S}<(?:{_RPR_CHILDREN}){_ATTRS}{_S}/>)*){_S}</rPr>)"
_RUN = rf"<r>{_S}(?:{_RPR}{_S}|){_T}{_S}</r>"
_PHONETIC = rf"(?>(?:<rPh{_ATTRS}{_S}>{_S}{_T}{_S}</rPh>{_S})*)(?:<phoneticPr{_ATTRS}{_S}/>{_S}|)"
# the content of an <si> or <is>: one plain <t> (groups 1, 2), or text and runs whose <t>s
# make the value (group 3), then phonetic runs that are not part of it
_RST = (
    rf"(?:<t>({_CHARS})</t>{_S}|<t xml:space=\"preserve\">({_CHARS})</t>{_S}"
    rf"|((?:{_T}{_S}|)(?>(?:{_RUN}{_S})*)){_PHONETIC})"
)
_T_TEXT = re.compile(rf"<t{_ATTRS}{_S}>({_CHARS})</t>")

# One token of <sheetData> content, for findall (a group that took no part is ""): a cell
# (groups 1-12: "c", r, s, t, other attributes, <f>, "v", <v> text, "is", inline text as in
# _RST), a row start (13-15: "r", r, other attributes), </row>, white space, or the rest
# from the first token in another shape (16).
_SHEET_DATA_TOKEN = re.compile(
    rf'<(c)(?: r="({_VALUE})"|)(?: s="({_VALUE})"|)(?: t="({_VALUE})"|)({_ATTRS}){_S}'
    rf"(?:/>|>{_S}(?:(?:(<f{_ATTRS}{_S}(?:/>|>{_CHARS}</f>)){_S}|)(?:<(v)(?:>({_CHARS})</v>|{_S}/>){_S}|)"
    rf"|<(is)>{_S}{_RST}</is>{_S})</c>)"
    rf'|<(r)ow(?: r="({_VALUE})"|)({_ATTRS}){_S}/?>|</row>|[ \t\r\n]++|([\s\S]++)'
)

# The shared string table: its start, then one <si> per token, for findall (groups 1-3 as in
# _RST; group 4 takes the rest of the part from the first token in another shape).
_SST_START = re.compile(rf"(?:<\?xml[^?<>]*+\?>|){_S}<sst{_ATTRS}{_S}>")
_SHARED_STRING = re.compile(rf"{_S}(?:<si>{_S}{_RST}</si>|<si{_S}/>)|([\s\S]++)")


def _scan_worksheet(xml: str, open_row, close_cell, hidden_col, merge_cell) -> bool:
    """Feed a well-formed worksheet to the reader's handlers, in document order.

    False as soon as some part is not in a shape the fast path knows: the caller then
    discards what was fed and reads the part through expat callbacks.
    """
    tokens = _MARKUP.finditer(xml)
    data_seen = False
    while (m := next(tokens, None)) is not None:
        name, attributes, empty, other = m.groups()
        if name is None:
            if other is not None:
                return False
            continue
        local = name.rpartition(":")[2]
        if local == "col":
            hidden_col(_attributes(attributes))
        elif local == "mergeCell":
            merge_cell(_attributes(attributes).get("ref"))
        elif local == "sheetData":
            if data_seen or local != name:
                return False
            data_seen = True
            if not empty:
                end = _scan_sheet_data(xml, m.end(), open_row, close_cell)
                if end is None:
                    return False
                tokens = _MARKUP.finditer(xml, end)
    return True


def _scan_sheet_data(xml: str, pos: int, open_row, close_cell) -> int | None:
    """Feed the rows and cells of the <sheetData> content at ``pos`` to the reader's handlers.

    Returns where </sheetData> ends, or None when some token is in an unknown shape.  The
    first "</sheetData>" is the end, and the data is tokenized in windows that end after a
    "</row>", so as never to hold the tokens of a whole large part: no token of a known shape
    holds either text.
    """
    end = xml.find("</sheetData>", pos)
    if end < 0:
        return None
    while pos < end:
        cut = xml.find("</row>", pos + _WINDOW, end)
        stop = end if cut < 0 else cut + len("</row>")
        if not _scan_window(xml, pos, stop, open_row, close_cell):
            return None
        pos = stop
    return end + len("</sheetData>")


def _scan_window(xml: str, pos: int, stop: int, open_row, close_cell) -> bool:
    """Feed the rows and cells in xml[pos:stop] to the reader's handlers; False at a token in an unknown shape."""
    for (cell, ref, style, kind, more, formula, v, text, inline_seen, plain, preserved, rich,
         row, row_ref, row_more, other) in _SHEET_DATA_TOKEN.findall(xml, pos, stop):
        if cell:
            ref, style, kind = ref or None, style or None, kind or None
            if more:
                extra = _attributes(more)
                ref, style, kind = extra.get("r", ref), extra.get("s", style), extra.get("t", kind)
            if len(text) > _TEXT_CAP:              # the callback path keeps a prefix: let it
                return False
            if "&" in text or "\r" in text:
                text = _char_data(text)
            inline = None
            if inline_seen:
                if rich:
                    if len(rich) > _TEXT_CAP:
                        return False
                    inline = "".join(map(_char_data, _T_TEXT.findall(rich)))
                else:
                    inline = plain or preserved
                    if len(inline) > _TEXT_CAP:
                        return False
                    if "&" in inline or "\r" in inline:
                        inline = _char_data(inline)
            close_cell(ref, kind, style, formula, v, text, inline)
        elif row:
            hidden = None
            row_ref = row_ref or None
            if "r=" in row_more or "hidden" in row_more:      # else only attributes never read
                extra = _attributes(row_more)
                row_ref, hidden = extra.get("r", row_ref), extra.get("hidden")
            open_row(row_ref, hidden)
        elif other:
            return False
    return True


def _scan_shared_strings(xml: str, needed: set[int], last: int) -> dict[int, list[str]] | None:
    """The raw <t> texts of each needed shared string (undecoded: the part is not checked yet).

    None when the items up to index ``last`` are not all in shapes the fast path knows.
    """
    start = _SST_START.match(xml)
    if start is None:
        return None
    items = _SHARED_STRING.findall(xml, start.end())
    known = len(items) - 1 if items and items[-1][3] else len(items)
    if last >= known:
        return None
    found: dict[int, list[str]] = {}
    for index in needed:
        plain, preserved, rich, _rest = items[index]
        if len(rich) > _TEXT_CAP or len(plain) > _TEXT_CAP or len(preserved) > _TEXT_CAP:
            return None                     # the callback path keeps a prefix: let it
        found[index] = _T_TEXT.findall(rich) if rich else [plain or preserved]
    return found


# ------------------------------------------------------------------------------------------
# cell values
# ------------------------------------------------------------------------------------------

_MAX_STRING = 32_767
_TEXT_CAP = 8 * _MAX_STRING      # characters of one value collected while parsing (escapes take room)
_XSTR_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _xstr(text: str) -> str:
    """OOXML ST_Xstring: decode _xHHHH_ escapes, keep at most Excel's 32,767 characters."""
    if "_x" in text:
        text = _XSTR_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
        if any("\ud800" <= ch <= "\udfff" for ch in text):
            text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if len(text) > _MAX_STRING:
        text = text[:_MAX_STRING]
    return text


@lru_cache(maxsize=32_768)
def _column_index(letters: str) -> int:
    """'A' -> 1, 'XFD' -> 16384; 0 when not column letters (at most 3 of A-Z)."""
    if not 1 <= len(letters) <= 3 or not letters.isascii() or not letters.isalpha():
        return 0
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index


_COLUMNS: dict[str, int] = {}      # column letters -> index, filled as letters are met (<= 18,278 keys)
_DIGITS = "0123456789"


def _ref(ref: str, limits: Limits) -> tuple[int, int]:
    """'B12' -> (12, 2); file-corrupt when malformed or beyond the limits."""
    letters = ref.rstrip(_DIGITS)
    digits = ref[len(letters):]
    col = _COLUMNS.get(letters) or _column_index(letters)
    if not col or not digits or digits[0] == "0" or len(digits) > 9:
        raise corrupt(f"儲存格位置「{ref[:20]}」無效")
    _COLUMNS[letters] = col
    row = int(digits)
    if row > limits.max_rows or col > limits.max_cols:
        raise corrupt(f"儲存格位置 {ref[:20]} 超出 Excel 的範圍")
    return row, col


def _range(ref: str, limits: Limits) -> tuple[int, int, int, int]:
    first, _, last = ref.strip().partition(":")
    r1, c1 = _ref(first.replace("$", ""), limits)
    r2, c2 = _ref(last.replace("$", ""), limits) if last else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _number(text: str, pos=None, where=None) -> int | float:
    """A <v> number: int when integral (within float precision), else float."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        place = where(pos) if where else "儲存格"
        raise corrupt(f"{place} 的數值「{text.strip()[:20]}」無效")
    if value.is_integer() and -(2**53) < value < 2**53:
        return int(value)
    return value


_EPOCH_1900 = _dt.datetime(1899, 12, 30)      # serials >= 60 (Excel's fictitious 1900-02-29 is 60)
_EPOCH_1900_EARLY = _dt.datetime(1899, 12, 31)  # serials < 60
_EPOCH_1904 = _dt.datetime(1904, 1, 1)
_MAX_SERIAL_1900 = 2_958_466                   # 10000-01-01
_MAX_SERIAL_1904 = _MAX_SERIAL_1900 - 1462


def serial_to_datetime(value: float, date1904: bool = False) -> _dt.datetime | None:
    """Excel serial -> datetime (ms precision); None when outside Excel's date range.

    1900 system: serials below 60 are shifted one day (Excel counts a 1900-02-29 that never
    was); serial 60 itself, that phantom day, reads as 1900-02-28.
    """
    if value < 0:
        return None
    if date1904:
        if value >= _MAX_SERIAL_1904:
            return None
        base = _EPOCH_1904
    else:
        if value >= _MAX_SERIAL_1900:
            return None
        base = _EPOCH_1900_EARLY if value < 60 else _EPOCH_1900
    days = int(value)
    ms = round((value - days) * 86_400_000)
    return base + _dt.timedelta(days=days, milliseconds=ms)


def _iso_datetime(text: str, where: str) -> _dt.datetime:
    """t="d" cells: ISO 8601 date, date-time or time."""
    raw = text.strip()
    try:
        if "T" not in raw and ":" in raw:
            return _dt.datetime.combine(_EPOCH_1900_EARLY.date(), _dt.time.fromisoformat(raw))
        value = _dt.datetime.fromisoformat(raw.removesuffix("Z"))
    except ValueError:
        raise corrupt(f"{where} 的日期「{raw[:30]}」無效") from None
    return value.replace(tzinfo=None)


_BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_ELAPSED = re.compile(r"(?i)h+|m+|s+")
_SCIENTIFIC = re.compile(r"e[+-]")


@lru_cache(maxsize=4096)
def is_date_format(code: str) -> bool:
    """Whether a number format code shows a date or time (not elapsed time, not text)."""
    kept = []
    elapsed = False
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            end = code.find('"', i + 1)
            i = n if end < 0 else end + 1
        elif ch in "\\_*":
            i += 2
        elif ch == "[":
            end = code.find("]", i + 1)
            if end < 0:
                break
            if _ELAPSED.fullmatch(code[i + 1: end]):
                elapsed = True
            i = end + 1
        else:
            kept.append(ch)
            i += 1
    shown = _SCIENTIFIC.sub("", "".join(kept).lower().replace("general", ""))
    calendar = any(ch in shown for ch in "dye年月日")
    if calendar:
        return True
    return "m" in shown and not elapsed


# ------------------------------------------------------------------------------------------
# ZIP routing
# ------------------------------------------------------------------------------------------

_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_REL_OFFICE_DOCUMENT = "/officeDocument"


def _open_zip(f, path: str, size: int, limits: Limits, wanted=None) -> Workbook:
    pkg = Package(f, path, size, limits)
    mime = b""
    info = pkg.info("mimetype")
    if info is not None and info.file_size <= 200:
        mime = read_all(pkg, info).strip()
    if mime.startswith(_ODS_MIME):
        scan_prologs(pkg)
        return _open_ods(pkg, limits)
    workbook_part = _find_workbook_part(pkg)
    if workbook_part is None:
        names = {n.lower() for n in pkg.names()}
        if "word/document.xml" in names:
            raise FileProblem("file-not-spreadsheet", detected="Word 文件（.docx）")
        if "ppt/presentation.xml" in names:
            raise FileProblem("file-not-spreadsheet", detected="PowerPoint 簡報（.pptx）")
        if mime.startswith(b"application/vnd.oasis.opendocument.text"):
            raise FileProblem("file-not-spreadsheet", detected="OpenDocument 文字文件（.odt）")
        if mime.startswith(b"application/vnd.oasis.opendocument"):
            raise FileProblem("file-not-spreadsheet", detected="OpenDocument 文件")
        if any(n.startswith("xl/") for n in names):
            raise corrupt("找不到活頁簿內容 xl/workbook.xml")
        raise FileProblem("file-not-spreadsheet", detected="ZIP 壓縮檔")
    scan_prologs(pkg)
    if workbook_part.lower().endswith(".bin"):
        return _open_calamine_zip(pkg, "xlsb", limits)
    with paused_gc():      # many small acyclic objects: the cyclic GC would only rescan them
        return _XlsxReader(pkg, workbook_part, limits, wanted).read()


# What parsing a small part found, by its exact bytes: files made from one template and saved
# by the same application share most small parts (styles, relationships, content types)
# byte for byte, and what a parse finds depends on nothing but the bytes.
_PARSED: dict[tuple, object] = {}
_PARSED_MAX_BYTES = 256 * 1024
_PARSED_MAX_ITEMS = 64
_NOT_PARSED = object()


def _remembered(pkg: Package, info: zipfile.ZipInfo, what: str, parse):
    """``parse(raw)``, or what it found in a part with the same bytes earlier in this process.

    The part is inflated first, under the same checks and budget as a parse, and parsed
    from those bytes (``raw``); a part too big to keep, or that fails to inflate, is
    streamed by ``parse(None)`` as before, and meets its problem where it always did.
    """
    if info.file_size > _PARSED_MAX_BYTES:
        return parse(None)
    inflated = pkg.inflated
    try:
        data = read_all(pkg, info)
    except FileProblem:
        pkg.inflated = inflated
        return parse(None)
    key = (what, data)
    found = _PARSED.get(key, _NOT_PARSED)
    if found is _NOT_PARSED:
        found = parse(data)
        if len(_PARSED) >= _PARSED_MAX_ITEMS:
            _PARSED.clear()
        _PARSED[key] = found
    return found


def _rels_name(part: str) -> str:
    folder, _, base = part.rpartition("/")
    return f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"


def _resolve(source_part: str, target: str) -> str:
    target = unquote(target.replace("\\", "/"))
    if target.startswith("/"):
        joined = target
    else:
        joined = posixpath.join(posixpath.dirname(source_part), target)
    return posixpath.normpath("/" + joined).lstrip("/")


def _relationships(pkg: Package, part: str) -> dict[str, tuple[str, str]]:
    """{Id: (Type, resolved target)} for one part ('' for the package root); internal only."""
    info = pkg.info(_rels_name(part) if part else "_rels/.rels")
    if info is None:
        return {}

    def parse(raw: bytes | None) -> tuple:
        found: dict[str, tuple[str, str]] = {}

        def start(tag, attrs):
            if _local(tag) == "Relationship":
                a = attrs
                if a.get("TargetMode", "").lower() == "external" or "Target" not in a:
                    return
                found[a.get("Id", "")] = (a.get("Type", ""), _resolve(part, a["Target"]))

        _parse(pkg, info, start, raw=raw)
        return tuple(found.items())

    return dict(_remembered(pkg, info, f"relationships of /{part}", parse))


def _find_workbook_part(pkg: Package) -> str | None:
    for rel_type, target in _relationships(pkg, "").values():
        if rel_type.endswith(_REL_OFFICE_DOCUMENT) and pkg.info(target) is not None:
            if target.lower().startswith("xl/") or target.lower().endswith(("workbook.xml", "workbook.bin")):
                return target
    for candidate in ("xl/workbook.xml", "xl/workbook.bin"):
        if pkg.info(candidate) is not None:
            return candidate
    return None


# ------------------------------------------------------------------------------------------
# .xlsx / .xlsm: our own streaming reader
# ------------------------------------------------------------------------------------------

_TRUE = ("1", "true")
_MAX_STYLES = 200_000
_MAX_COL_RANGES = 20_000


def _merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint, non-adjacent (lo, hi) ranges covering the same integers."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def _expat_sheet(pkg: Package, info: zipfile.ZipInfo, open_row, close_cell, hidden_col, merge_cell) -> None:
    """Stream a worksheet through expat callbacks into the reader's handlers (any XML at all)."""
    local = _LOCAL_NAMES
    v_buf: list[str] = []
    is_buf: list[str] = []
    in_data = False
    c_ref = c_t = c_s = None
    has_f = has_v = in_is = is_seen = False
    collect = None
    kept = 0                      # characters collected for the current value
    rph = 0

    def start(tag, attrs):
        nonlocal in_data, c_ref, c_t, c_s, has_f, has_v, in_is, is_seen, collect, rph, kept
        name = local.get(tag) or _local(tag)
        if in_data:
            if name == "c":
                c_ref = attrs.get("r")
                c_t = attrs.get("t")
                c_s = attrs.get("s")
                has_f = has_v = in_is = is_seen = False
            elif name == "v":
                has_v = True
                v_buf.clear()
                kept = 0
                collect = v_buf
            elif name == "row":
                open_row(attrs.get("r"), attrs.get("hidden"))
            elif name == "f":
                has_f = True
            elif name == "is":
                in_is = is_seen = True
                is_buf.clear()
                kept = 0
            elif name == "t":
                if in_is and not rph:
                    collect = is_buf
            elif name == "rPh":
                rph += 1
        elif name == "sheetData":
            in_data = True
        elif name == "col":
            hidden_col(attrs)
        elif name == "mergeCell":
            merge_cell(attrs.get("ref"))

    def end(tag):
        nonlocal in_data, collect, in_is, rph
        name = local.get(tag) or _local(tag)
        if name == "v":
            collect = None
            return
        if not in_data:
            return
        if name != "c":
            if name == "t":
                collect = None
            elif name == "is":
                in_is = False
                collect = None
            elif name == "rPh":
                rph -= 1
            elif name == "sheetData":
                in_data = False
            return
        close_cell(c_ref, c_t, c_s, has_f, has_v, "".join(v_buf) if has_v else "",
                   "".join(is_buf) if is_seen else None)

    def data(text):
        nonlocal kept
        if collect is not None:
            kept += len(text)
            if kept <= _TEXT_CAP:           # nothing longer than Excel's limit is kept anyway
                collect.append(text)

    _parse(pkg, info, start, end, data)


def _expat_strings(pkg: Package, info: zipfile.ZipInfo, needed: set[int], last: int) -> dict[int, str]:
    """The needed shared strings by expat callbacks, parsing up to the last one needed."""
    strings: dict[int, str] = {}
    buf: list[str] = []
    local = _LOCAL_NAMES
    index = -1
    in_si = False
    rph = 0
    collect = False
    kept = 0

    def start(tag, attrs):
        nonlocal in_si, rph, collect, kept
        name = local.get(tag) or _local(tag)
        if name == "t":
            collect = in_si and not rph
        elif name == "si":
            in_si = True
            buf.clear()
            kept = 0
        elif name == "rPh":
            rph += 1

    def end(tag):
        nonlocal in_si, rph, collect, index
        name = local.get(tag) or _local(tag)
        if name == "t":
            collect = False
        elif name == "si":
            in_si = False
            index += 1
            if index in needed:
                strings[index] = _xstr("".join(buf))
                if index >= last:
                    raise _Stop
        elif name == "rPh":
            rph -= 1

    def data(text):
        nonlocal kept
        if collect:
            kept += len(text)
            if kept <= _TEXT_CAP:
                buf.append(text)

    _parse(pkg, info, start, end, data)
    return strings


class _XlsxReader:
    def __init__(self, pkg: Package, workbook_part: str, limits: Limits, wanted=None):
        self.wanted = wanted
        self.pkg = pkg
        self.part = workbook_part
        self.limits = limits
        self.total_cells = 0

    def read(self) -> Workbook:
        pkg = self.pkg
        has_macros = any(n.lower().endswith("vbaproject.bin") for n in pkg.names())
        book = Workbook(format="xlsm" if has_macros else "xlsx", has_macros=has_macros)
        entries, book.date1904 = self._workbook()
        rels = _relationships(pkg, self.part)
        styles_part = shared_part = None
        for rel_type, target in rels.values():
            if rel_type.endswith("/styles"):
                styles_part = target
            elif rel_type.endswith("/sharedStrings"):
                shared_part = target
        if self._content_type_is_macro():
            book.format = "xlsm"
        date_styles = self._date_styles(styles_part or "xl/styles.xml")
        pending: list[tuple[dict, tuple[int, int], int]] = []
        parsed: set[str] = set()
        for name, state, rid in entries:
            sheet = Sheet(name=name, state=state)
            book.sheets.append(sheet)
            rel_type, target = rels.get(rid, ("", ""))
            if rel_type.endswith(("/chartsheet", "/dialogsheet")):
                continue
            info = pkg.info(target) if target else None
            if info is None:
                raise corrupt(f"找不到工作表「{name[:40]}」的內容")
            # every sheet has a part of its own: so at most max_members parses, each bounded
            if info.filename in parsed:
                raise corrupt(f"工作表「{name[:40]}」與其他工作表指向同一內容")
            parsed.add(info.filename)
            if "macrosheet" in rel_type.lower():
                book.has_macros = True
            if self.wanted is not None and not self.wanted(name, state):
                sheet.skipped = True
                continue
            self._sheet(info, sheet, date_styles, book.date1904, pending)
        if not book.sheets:
            raise corrupt("活頁簿中沒有工作表")
        if pending:
            self._resolve_strings(shared_part or "xl/sharedStrings.xml", pending)
        return book

    def _content_type_is_macro(self) -> bool:
        info = self.pkg.info("[Content_Types].xml")
        if info is None:
            return False
        wanted = "/" + self.part.lower()

        def parse(raw: bytes | None) -> bool:
            found = [False]

            def start(tag, attrs):
                if _local(tag) == "Override":
                    a = attrs
                    if a.get("PartName", "").lower() == wanted and "macroenabled" in a.get("ContentType", "").lower():
                        found[0] = True

            _parse(self.pkg, info, start, raw=raw)
            return found[0]

        return _remembered(self.pkg, info, f"macro content type of {wanted}", parse)

    def _workbook(self) -> tuple[tuple[tuple[str, str, str], ...], bool]:
        """The sheets (name, state, relationship id) in order, and whether dates count from 1904."""
        info = self.pkg.info(self.part)

        def parse(raw: bytes | None):
            entries: list[tuple[str, str, str]] = []
            date1904 = [False]

            def start(tag, attrs):
                name = _local(tag)
                if name == "sheet":
                    state = attrs.get("state", "visible").strip().lower()
                    state = {"hidden": "hidden", "veryhidden": "veryHidden"}.get(state, "visible")
                    entries.append((attrs.get("name", ""), state, _rel_id(attrs)))
                elif name == "workbookPr":
                    if attrs.get("date1904", "").strip().lower() in _TRUE:
                        date1904[0] = True

            _parse(self.pkg, info, start, raw=raw)
            return tuple(entries), date1904[0]

        return _remembered(self.pkg, info, "workbook", parse)

    def _date_styles(self, part: str) -> frozenset[str]:
        """The cell style indices (as the strings in s="...") whose number format is a date."""
        info = self.pkg.info(part)
        if info is None:
            return frozenset()
        return _remembered(self.pkg, info, "date styles", lambda raw: self._parse_date_styles(info, raw))

    def _parse_date_styles(self, info, raw: bytes | None) -> frozenset[str]:
        """Parse the styles part for ``_date_styles``."""
        formats: dict[str, str] = {}
        xf_formats: list[str] = []
        depth = {"cellXfs": 0}

        def start(tag, attrs):
            name = _local(tag)
            if name == "numFmt":
                if len(formats) < _MAX_STYLES:
                    formats[attrs.get("numFmtId", "").strip()] = attrs.get("formatCode", "")[:1000]
            elif name == "cellXfs":
                depth["cellXfs"] += 1
            elif name == "xf" and depth["cellXfs"]:
                if len(xf_formats) < _MAX_STYLES:      # Excel allows 64,000; the rest read as General
                    xf_formats.append(attrs.get("numFmtId", "0").strip())

        def end(tag):
            if _local(tag) == "cellXfs":
                depth["cellXfs"] -= 1

        _parse(self.pkg, info, start, end, raw=raw)
        dates = set()
        for index, fmt_id in enumerate(xf_formats):
            code = formats.get(fmt_id)
            if code is not None:
                is_date = is_date_format(code)
            else:
                is_date = fmt_id.isdigit() and int(fmt_id) in _BUILTIN_DATE_FORMATS
            if is_date:
                dates.add(str(index))
        return frozenset(dates)

    def _fast_member(self, info) -> tuple[bytes, str] | None:
        """The bytes and the text of a UTF-8 member for the fast path; None to use expat callbacks.

        None too when inflating fails: the callback path, reading again, then meets the
        problem where it always did (the caller gives back the inflated-bytes budget).
        """
        if not _FAST_PATH or info.file_size > _FAST_MAX_BYTES:
            return None
        try:
            raw = read_all(self.pkg, info)
        except FileProblem:
            return None
        skip = _utf8_start(raw)
        if skip is None:
            return None
        try:
            return raw, raw[skip:].decode("utf-8")
        except UnicodeDecodeError:
            return None

    def _sheet(self, info, sheet: Sheet, date_styles, date1904: bool, pending: list) -> None:
        """Read one worksheet: by the fast path when it covers the whole part, else by expat callbacks."""
        inflated = self.pkg.inflated
        member = self._fast_member(info)
        if member is not None and _well_formed(member[0]):
            mark = len(pending)
            if self._read_sheet(info, sheet, date_styles, date1904, pending, member[1]):
                return
            del pending[mark:]
            for found in (sheet.cells, sheet.uncached, sheet.merged, sheet.hidden_rows, sheet.hidden_cols):
                found.clear()
        self.pkg.inflated = inflated
        self._read_sheet(info, sheet, date_styles, date1904, pending, None)

    def _read_sheet(self, info, sheet: Sheet, date_styles, date1904: bool, pending: list, xml: str | None) -> bool:
        """Fill ``sheet`` from the checked text ``xml``, or by expat callbacks when it is None.

        False when the text is not in a shape the fast path knows (``sheet`` is then partly filled).
        """
        limits = self.limits
        max_rows, max_cols, max_cells = limits.max_rows, limits.max_cols, limits.max_cells
        max_blanks = max_cells * 4
        cells = sheet.cells
        uncached = sheet.uncached
        hidden_rows = sheet.hidden_rows
        merged = sheet.merged
        col_ranges: list[tuple[int, int]] = []
        sheet_name = sheet.name
        part = info.filename[:80]
        columns = _COLUMNS
        row = 0
        row_digits = None             # the current row's r="..." text, to split cell refs fast
        row_len = 0
        col = 0
        count = 0
        blanks = 0

        def too_many(detail):
            return FileProblem("sheet-too-large", sheet=sheet_name, detail=detail)

        def where(pos):
            return f"{part} 的 {column_letter(pos[1])}{pos[0]}"

        def open_row(r, hidden):
            nonlocal row, row_digits, row_len, col
            if r is None:
                row += 1
                row_digits = None
            else:
                r = r.strip()
                if not r.isascii() or not r.isdigit() or len(r) > 9 or r[0] == "0":
                    raise corrupt(f"{part} 的列號「{r[:20]}」無效")
                row = int(r)
                row_digits = r
                row_len = len(r)
            if row > max_rows:
                raise corrupt(f"{part} 的列號 {row} 超出 Excel 的範圍")
            col = 0
            if hidden is not None and hidden.strip().lower() in _TRUE:
                hidden_rows.add(row)

        def blank():
            nonlocal blanks
            blanks += 1
            if blanks > max_blanks:
                raise too_many(f"空白儲存格超過 {max_blanks:,} 個")

        def close_cell(c_ref, t, c_s, has_f, has_v, text, inline):
            """One cell: its r, t and s attributes, whether it has <f> and <v> (truth values), the <v>
            text, and the <is> text or None."""
            nonlocal col, count
            # -- where it is
            if c_ref is not None:
                # fast path: "<letters><this row's digits>" (letters never hold a digit, so a
                # wrong split leaves a prefix that is not in the column table)
                if row_digits is not None and c_ref.endswith(row_digits):
                    col = columns.get(c_ref[:-row_len], 0)
                    if col and col <= max_cols:
                        pos = (row, col)
                    else:
                        pos = _ref(c_ref, limits)
                else:
                    pos = _ref(c_ref, limits)
                col = pos[1]
            else:
                col += 1
                if col > max_cols:
                    raise corrupt(f"{part} 第 {row} 列的欄數超出 Excel 的範圍")
                if row < 1:
                    raise corrupt(f"{part} 有不屬於任何列的儲存格")
                pos = (row, col)
            # -- what it holds
            if t == "inlineStr" and inline is not None:
                value = _xstr(inline)
                if not value:
                    return blank()
            else:
                if not text or (t is None or t == "n") and not text.strip():
                    if has_f and not (has_v and (t == "str" or t == "inlineStr")):
                        uncached.add(pos)
                        cells.pop(pos, None)
                        count += 1
                        if count > max_cells:
                            raise too_many(f"超過 {max_cells:,} 個非空白儲存格")
                        return
                    return blank()
                if t == "s":
                    if not text.isdigit() or not text.isascii() or len(text) > 9:
                        text = text.strip()
                        if not text.isdigit() or not text.isascii() or len(text) > 9:
                            raise corrupt(f"{where(pos)} 的共用字串索引「{text[:20]}」無效")
                    value = int(text)
                    pending.append((cells, pos, value))
                elif t is None or t == "n":
                    try:
                        value = int(text)
                        if not -(2**53) < value < 2**53:
                            raise ValueError
                    except ValueError:
                        value = _number(text, pos, where)
                    if c_s is not None and c_s in date_styles:
                        value = serial_to_datetime(value, date1904) or value
                elif t == "str" or t == "inlineStr":
                    value = _xstr(text)
                elif t == "b":
                    flag = text.strip().lower()
                    if flag not in ("0", "1", "true", "false"):
                        raise corrupt(f"{where(pos)} 的布林值「{text[:20]}」無效")
                    value = flag in _TRUE
                elif t == "e":
                    value = ErrorValue(text.strip())
                elif t == "d":
                    value = _iso_datetime(text, where(pos))
                else:
                    raise corrupt(f"{where(pos)} 的儲存格類型「{t[:20]}」無效")
            cells[pos] = value
            if uncached and pos in uncached:
                uncached.discard(pos)
            count += 1
            if count > max_cells:
                raise too_many(f"超過 {max_cells:,} 個非空白儲存格")

        def hidden_col(attrs):
            if attrs.get("hidden", "").strip().lower() in _TRUE:
                lo, hi = attrs.get("min", "").strip(), attrs.get("max", "").strip()
                if lo.isascii() and lo.isdigit() and hi.isascii() and hi.isdigit() and len(lo) < 7 and len(hi) < 7:
                    lo_i, hi_i = max(int(lo), 1), min(int(hi), max_cols)
                    if lo_i <= hi_i:
                        col_ranges.append((lo_i, hi_i))
                        if len(col_ranges) > _MAX_COL_RANGES:
                            col_ranges[:] = _merge_ranges(col_ranges)

        def merge_cell(ref):
            if ref:
                merged.append(_range(ref, limits))
                if len(merged) > max_cells:
                    raise too_many(f"合併儲存格超過 {max_cells:,} 個")

        if xml is None:
            _expat_sheet(self.pkg, info, open_row, close_cell, hidden_col, merge_cell)
        elif not _scan_worksheet(xml, open_row, close_cell, hidden_col, merge_cell):
            return False
        for lo, hi in _merge_ranges(col_ranges):
            sheet.hidden_cols.update(range(lo, hi + 1))
        self.total_cells += count
        if self.total_cells > limits.max_total_cells:
            raise FileProblem(
                "sheet-too-large", sheet=sheet_name,
                detail=f"整本活頁簿超過 {limits.max_total_cells:,} 個非空白儲存格",
            )
        return True

    def _resolve_strings(self, part: str, pending: list) -> None:
        """Read only the shared strings the sheets use, then put them in place."""
        info = self.pkg.info(part)
        if info is None:
            raise corrupt("缺少共用字串表 sharedStrings.xml")
        needed = {index for _, _, index in pending}
        last = max(needed)
        inflated = self.pkg.inflated
        strings = self._fast_strings(info, needed, last)
        if strings is None:
            self.pkg.inflated = inflated
            strings = _expat_strings(self.pkg, info, needed, last)
        for cells, pos, idx in pending:
            value = strings.get(idx)
            if value is None:
                raise corrupt(f"共用字串索引 {idx} 超出範圍")
            if pos not in cells:            # a later duplicate <c> made it uncached
                continue
            if value:
                cells[pos] = value
            else:
                del cells[pos]

    def _fast_strings(self, info, needed: set[int], last: int) -> dict[int, str] | None:
        """The needed shared strings by the fast path; None when it does not cover them.

        The whole part must be well-formed, where the callback path stops at the last string
        needed: a part that is not goes to that path, which answers as it always did.
        """
        member = self._fast_member(info)
        if member is None:
            return None
        found = _scan_shared_strings(member[1], needed, last)
        if found is None or not _well_formed(member[0]):
            return None
        return {index: _xstr("".join(map(_char_data, parts))) for index, parts in found.items()}


# ------------------------------------------------------------------------------------------
# .ods / .xls / .xlsb: python-calamine in a bounded worker process
# ------------------------------------------------------------------------------------------

_FORMAT_NAMES = {"ods": "ODS", "xls": "XLS", "xlsb": "XLSB"}


def _open_ods(pkg: Package, limits: Limits) -> Workbook:
    # calamine inflates content.xml itself: inflate every XML part once through our guarded
    # reader first, so a member that lies about its size is refused before calamine sees it.
    for info in pkg.members.values():
        if info.filename.lower().endswith(".xml"):
            stream = pkg.open(info)
            while stream.read(CHUNK):
                pass
    macros = any(n.lower().startswith(("basic/", "scripts/")) and not n.endswith("/") for n in pkg.names())
    book = _calamine_read(pkg.path, "ods", limits)
    book.has_macros = book.has_macros or macros
    return book


def _open_calamine_zip(pkg: Package, fmt: str, limits: Limits) -> Workbook:
    for info in pkg.members.values():
        stream = pkg.open(info)
        while stream.read(CHUNK):
            pass
    has_macros = any(n.lower().endswith("vbaproject.bin") for n in pkg.names())
    book = _calamine_read(pkg.path, fmt, limits)
    book.has_macros = book.has_macros or has_macros
    return book


def _calamine_read(path: str, fmt: str, limits: Limits) -> Workbook:
    """Run python-calamine on ``path`` in a child process with RLIMIT_AS and a timeout."""
    # calamine picks its reader from the file name's extension: give it a link whose
    # extension is the format the content was sniffed as
    with tempfile.TemporaryDirectory(prefix="qos-xl-") as tmp:
        link = os.path.join(tmp, f"book.{fmt}")
        platform.link_or_copy(path, link)
        return _calamine_run(link, fmt, limits)


def _calamine_run(path: str, fmt: str, limits: Limits) -> Workbook:
    label = _FORMAT_NAMES[fmt]
    request = {
        "path": path,
        "memory": limits.memory_bytes,
        "cpu": int(limits.timeout_seconds) + 2,
        "max_cells": limits.max_cells,
        "max_total_cells": limits.max_total_cells,
    }
    # -P: the working directory is not put on sys.path (no stray json.py is imported)
    cmd = [sys.executable, "-P", "-c", _WORKER_SOURCE]
    try:
        proc = subprocess.run(
            cmd, input=json.dumps(request).encode(), capture_output=True, timeout=limits.timeout_seconds,
        )
    except subprocess.TimeoutExpired as e:
        sheet = _last_sheet(e.stderr)
        seconds = f"{limits.timeout_seconds:g}"
        if sheet is not None:
            raise FileProblem("sheet-too-large", sheet=sheet, detail=f"讀取超過 {seconds} 秒") from None
        raise FileProblem("format-unreadable", format=label, detail=f"讀取超過 {seconds} 秒") from None
    try:
        answer = json.loads(proc.stdout) if proc.stdout else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):                 # killed: out of memory (abort) or CPU time
        sheet = _last_sheet(proc.stderr)
        if platform.killed_for_cpu_time(proc.returncode):
            detail = f"讀取超過 {limits.timeout_seconds:g} 秒"
        else:
            detail = "讀取時耗用的記憶體超過上限"
        if sheet is not None:
            raise FileProblem("sheet-too-large", sheet=sheet, detail=detail)
        raise FileProblem("format-unreadable", format=label, detail=f"{detail}，資料範圍可能過大")
    error = answer.get("error")
    if error == "password":
        raise FileProblem("file-encrypted")
    if error in ("memory", "cells"):
        sheet = answer.get("sheet")
        detail = answer.get("detail") or "讀取時耗用的記憶體超過上限"
        if sheet is not None:
            raise FileProblem("sheet-too-large", sheet=sheet, detail=detail)
        raise FileProblem("format-unreadable", format=label, detail=detail)
    if error is not None:
        if "cell limit" in str(answer.get("message", "")).lower():
            sheet = answer.get("sheet")
            detail = "資料範圍過大，超過可讀取的儲存格數"
            if sheet is not None:
                raise FileProblem("sheet-too-large", sheet=sheet, detail=detail)
            raise FileProblem("format-unreadable", format=label, detail=detail)
        raise FileProblem("format-unreadable", format=label, detail="檔案內容無法解析")
    return _book_from_answer(answer, fmt, limits)


def _last_sheet(stderr: bytes | None) -> str | None:
    sheet = None
    for line in (stderr or b"").decode("utf-8", "replace").splitlines():
        if line.startswith("qos-xl-sheet\t"):
            try:
                sheet = str(json.loads(line.split("\t", 1)[1]))
            except ValueError:
                sheet = None
        elif line == "qos-xl-done":
            sheet = None
    return sheet


def _book_from_answer(answer: dict, fmt: str, limits: Limits) -> Workbook:
    try:
        return _convert_answer(answer, fmt, limits)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise FileProblem("format-unreadable", format=_FORMAT_NAMES[fmt], detail="讀取程式回傳的資料無效") from None


def _convert_answer(answer: dict, fmt: str, limits: Limits) -> Workbook:
    book = Workbook(format=fmt, has_macros=bool(answer.get("macro_sheets")))
    for entry in answer.get("sheets", []):
        sheet = Sheet(name=str(entry["name"]), state=entry.get("state", "visible"))
        cells = sheet.cells
        for r, c, tag, value in entry.get("cells", []):
            if r > limits.max_rows or c > limits.max_cols:
                raise FileProblem("sheet-too-large", sheet=sheet.name, detail="資料超出 Excel 的列數或欄數範圍")
            if tag == "s":
                value = value[:_MAX_STRING]
            elif tag == "n":
                if isinstance(value, float) and value.is_integer() and -(2**53) < value < 2**53:
                    value = int(value)
            elif tag == "d":
                value = _dt.datetime.fromisoformat(value)
            elif tag == "b":
                value = bool(value)
            elif tag == "e":
                value = ErrorValue(value)
            cells[(r, c)] = value
        sheet.merged = [tuple(m) for m in entry.get("merged", [])]
        book.sheets.append(sheet)
    if not book.sheets:
        raise corrupt("活頁簿中沒有工作表")
    return book


# The worker is a self-contained script run with ``python -P -c``: it imports only the
# standard library and python_calamine (start-up ~30 ms), limits its own address space and
# CPU time before touching the file, and answers ONE JSON object on stdout (never pickle: a
# worker subverted by a hostile file must not be able to run code in the parent).  Before
# each sheet it writes "qos-xl-sheet<TAB>name" on stderr so that a worker killed by the
# kernel or the timeout can still be blamed on the sheet it was reading.
_WORKER_SOURCE = r'''
import datetime as dt
import json
import resource
import sys

request = json.loads(sys.stdin.buffer.read())
try:
    memory = int(request["memory"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(request["cpu"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
except (ValueError, OSError):
    pass

EARLY = dt.date(1899, 12, 31)


class CellLimit(Exception):
    pass


def tagged(value):
    """A calamine value -> (tag, JSON value); None when empty."""
    if isinstance(value, str):
        return ("s", value) if value else None
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, dt.datetime):
        return ("d", value.replace(tzinfo=None).isoformat())
    if isinstance(value, dt.date):
        return ("d", dt.datetime(value.year, value.month, value.day).isoformat())
    if isinstance(value, dt.time):
        return ("d", dt.datetime.combine(EARLY, value.replace(tzinfo=None)).isoformat())
    if isinstance(value, dt.timedelta):
        return ("n", value.total_seconds() / 86400)
    if value is None:
        return None
    return ("s", str(value))


def read_sheet(book, index, max_cells):
    sheet = book.get_sheet_by_index(index)
    cells = []
    start = sheet.start
    if start is not None:
        r0, c0 = start
        rows = sheet.to_python(skip_empty_area=True)      # begins at `start`
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if value == "":
                    continue
                item = tagged(value)
                if item is None:
                    continue
                cells.append([r0 + i + 1, c0 + j + 1, item[0], item[1]])
                if len(cells) > max_cells:
                    raise CellLimit
        del rows
    merged = [[a[0] + 1, a[1] + 1, b[0] + 1, b[1] + 1] for a, b in (sheet.merged_cell_ranges or [])]
    return cells, merged


def answer(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=True))
    sys.stdout.flush()


def main():
    current = None
    try:
        from python_calamine import CalamineWorkbook, PasswordError

        try:
            book = CalamineWorkbook.from_path(request["path"])
            sheets, macro_sheets, total = [], False, 0
            for index, meta in enumerate(book.sheets_metadata):
                current = meta.name
                sys.stderr.write("qos-xl-sheet\t%s\n" % json.dumps(current))
                sys.stderr.flush()
                kind, visible = str(meta.typ), str(meta.visible)
                state = "veryHidden" if "VeryHidden" in visible else "hidden" if "Hidden" in visible else "visible"
                entry = {"name": current, "state": state, "cells": [], "merged": []}
                sheets.append(entry)
                macro_sheets = macro_sheets or "Macro" in kind
                if "Chart" in kind or "Dialog" in kind or "Vba" in kind:
                    continue
                try:
                    entry["cells"], entry["merged"] = read_sheet(book, index, request["max_cells"])
                except CellLimit:
                    answer({"error": "cells", "sheet": current,
                            "detail": "超過 {:,} 個非空白儲存格".format(request["max_cells"])})
                    return
                total += len(entry["cells"])
                if total > request["max_total_cells"]:
                    answer({"error": "cells", "sheet": current,
                            "detail": "整本活頁簿超過 {:,} 個非空白儲存格".format(request["max_total_cells"])})
                    return
            sys.stderr.write("qos-xl-done\n")
            answer({"sheets": sheets, "macro_sheets": macro_sheets})
        except PasswordError:
            answer({"error": "password"})
    except MemoryError:
        answer({"error": "memory", "sheet": current})
    except BaseException as e:      # calamine's errors, and pyo3's PanicException (a BaseException)
        answer({"error": "unreadable", "sheet": current, "kind": type(e).__name__, "message": str(e)[:300]})


main()
'''

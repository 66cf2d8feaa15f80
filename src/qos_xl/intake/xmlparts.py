"""The XML parts of an OOXML package, parsed under defusedxml: relationships, the workbook part and its sheets.

Every part parsed here goes through defusedxml's expat parser, which refuses DTDs, entities
and external references; ``zipguard.scan_prologs`` refuses them in every XML part of the
package besides, parsed or not.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError   # defusedxml 0.7.0 raises its own copy of the class

from qos_xl.core.problems import FileProblem
from qos_xl.intake.zipguard import CHUNK, Package, corrupt, read_all

_TRUE = ("1", "true")
_REL_OFFICE_DOCUMENT = "/officeDocument"


# ------------------------------------------------------------------------------------------
# defused parsing
# ------------------------------------------------------------------------------------------


class Stop(Exception):
    """Raised by a handler to end a parse early (everything needed has been read)."""


class _NoTarget:
    def close(self):
        return None


def defused_parser() -> DefusedXMLParser:
    """defusedxml's parser with its guards, for raw expat handlers.

    Handlers get expat's names ('ns}local') and attributes as a dict keyed by the raw
    attribute names ('r', or 'ns}id' for a prefixed one).  ElementTree's default handler is
    dropped: it would get every token none of ours takes, to do nothing with it.
    """
    parser = DefusedXMLParser(target=_NoTarget(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.parser.DefaultHandlerExpand = None
    parser.parser.ordered_attributes = 0
    return parser


def feed(parser: DefusedXMLParser, pkg: Package | None, info: zipfile.ZipInfo | str, raw: bytes | None = None) -> None:
    """Stream one member (or ``raw``, its bytes already inflated by the guard) through ``parser``.

    Parse errors and defusedxml's refusals become the file's problem, named by the part
    (``info``, or its name when ``raw`` is given).
    """
    name = (info if isinstance(info, str) else info.filename)[:80]
    expat = parser.parser
    try:
        try:
            if raw is not None:
                parser.feed(raw)
            else:
                stream = pkg.open(info)
                while chunk := stream.read(CHUNK):
                    parser.feed(chunk)
            parser.close()
        except Stop:
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
    finally:
        _let_go(expat)


_HANDLERS = ("StartElementHandler", "EndElementHandler", "CharacterDataHandler", "StartNamespaceDeclHandler",
             "EndNamespaceDeclHandler", "StartDoctypeDeclHandler", "EntityDeclHandler", "UnparsedEntityDeclHandler",
             "ExternalEntityRefHandler", "DefaultHandler", "DefaultHandlerExpand", "CommentHandler",
             "ProcessingInstructionHandler")


def _let_go(expat) -> None:
    """Drop a finished parser's handlers: each holds the parser (a closure over it, a method of its owner), and
    such a cycle is freed only by the cyclic GC, which the qos-xl process and the workers it forks run without."""
    for handler in _HANDLERS:
        setattr(expat, handler, None)


def parse(pkg: Package, info: zipfile.ZipInfo, start, end=None, data=None, raw: bytes | None = None) -> None:
    """One part through a defused parser into ``start(tag, attrs)`` (and ``end(tag)``, ``data(text)``)."""
    parser = defused_parser()
    parser.parser.StartElementHandler = start
    if end is not None:
        parser.parser.EndElementHandler = end
    if data is not None:
        parser.parser.CharacterDataHandler = data
    feed(parser, pkg, info, raw)


def parse_bytes(raw: bytes, name: str, start) -> None:
    """A part's bytes (inflated by the guard) through a defused parser into ``start(tag, attrs)``."""
    parser = defused_parser()
    parser.parser.StartElementHandler = start
    feed(parser, None, name, raw)


def local(tag: str) -> str:
    """'{ns}name' as expat reports it ('ns}name') -> 'name'."""
    return tag.rpartition("}")[2]


def is_true(value: str | None) -> bool:
    """An XML boolean attribute ('1' / 'true', any case and padding)."""
    return value is not None and value.strip().lower() in _TRUE


# ------------------------------------------------------------------------------------------
# relationships and the workbook part
# ------------------------------------------------------------------------------------------


def _rels_name(part: str) -> str:
    folder, _, base = part.rpartition("/")
    return f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"


def resolve(source_part: str, target: str) -> str:
    """A relationship target, relative to its source part or absolute, as a member name."""
    target = unquote(target.replace("\\", "/"))
    joined = target if target.startswith("/") else posixpath.join(posixpath.dirname(source_part), target)
    return posixpath.normpath("/" + joined).lstrip("/")


# Files made from one template and saved by the same application share their small parts
# (relationships, the workbook part) byte for byte, and what a parse finds in a part depends
# on nothing but its bytes and name: the answer for the same bytes is remembered (measured:
# a third of what a package's structure costs, ~4 % of reading a bench file).
_REMEMBERED_BYTES = 64 * 1024


def _remembered(parse_bytes):
    """``parse_bytes(raw, name, *args)``, remembered for small parts (results are immutable)."""
    cached = lru_cache(maxsize=64)(parse_bytes)

    def parsed(pkg: Package, info: zipfile.ZipInfo, *args):
        raw = read_all(pkg, info)
        return (cached if len(raw) <= _REMEMBERED_BYTES else parse_bytes)(raw, info.filename, *args)

    return parsed


@_remembered
def _relationships(raw: bytes, name: str, part: str) -> tuple[tuple[str, tuple[str, str]], ...]:
    found: dict[str, tuple[str, str]] = {}

    def start(tag, attrs):
        if local(tag) == "Relationship":
            if attrs.get("TargetMode", "").lower() == "external" or "Target" not in attrs:
                return
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), resolve(part, attrs["Target"]))

    parse_bytes(raw, name, start)
    return tuple(found.items())


def relationships(pkg: Package, part: str) -> dict[str, tuple[str, str]]:
    """{Id: (Type, resolved target)} for one part ('' for the package root); internal only."""
    info = pkg.info(_rels_name(part) if part else "_rels/.rels")
    return dict(_relationships(pkg, info, part)) if info is not None else {}


def find_workbook_part(pkg: Package) -> str | None:
    """The workbook part the package's root relationships name, else the usual name."""
    for rel_type, target in relationships(pkg, "").values():
        if rel_type.endswith(_REL_OFFICE_DOCUMENT) and pkg.info(target) is not None:
            if target.lower().startswith("xl/") or target.lower().endswith(("workbook.xml", "workbook.bin")):
                return target
    for candidate in ("xl/workbook.xml", "xl/workbook.bin"):
        if pkg.info(candidate) is not None:
            return candidate
    return None


@dataclass(frozen=True)
class SheetEntry:
    """A sheet as the workbook part lists it, with what its relationship points to."""

    name: str
    state: str                # "visible" | "hidden" | "veryHidden"
    kind: str                 # the relationship type's last word: "worksheet", "macrosheet", "chartsheet", ...
    part: str | None          # the member holding it; None for a sheet listed without a relationship


@dataclass(frozen=True)
class Structure:
    """What the workbook part and its relationships say: the sheets, the date system, the shared parts."""

    sheets: tuple[SheetEntry, ...]
    date1904: bool
    shared_strings: str | None
    styles: str | None


@_remembered
def _sheets_listed(raw: bytes, name: str) -> tuple[tuple[tuple[str, str, str], ...], bool]:
    """The workbook part's sheets (name, state, relationship id), and whether dates count from 1904."""
    listed: list[tuple[str, str, str]] = []
    date1904 = False

    def start(tag, attrs):
        nonlocal date1904
        element = local(tag)
        if element == "sheet":
            state = attrs.get("state", "visible").strip().lower()
            state = {"hidden": "hidden", "veryhidden": "veryHidden"}.get(state, "visible")
            rel_id = next((value for key, value in attrs.items() if key.endswith("}id")), "")
            listed.append((attrs.get("name", ""), state, rel_id.strip()))
        elif element == "workbookPr" and is_true(attrs.get("date1904")):
            date1904 = True

    parse_bytes(raw, name, start)
    return tuple(listed), date1904


def workbook_structure(pkg: Package, part: str) -> Structure:
    """The sheets in order, whether dates count from 1904, and the shared strings and styles parts.

    A sheet listed with an empty relationship id (how Excel 2013/2016 keep old macro sheets)
    has no content; one whose relationship names a part that is not there is damage.
    """
    listed, date1904 = _sheets_listed(pkg, pkg.info(part))
    rels = relationships(pkg, part)
    sheets = []
    for name, state, rel_id in listed:
        if not rel_id:
            sheets.append(SheetEntry(name, state, "", None))
            continue
        rel_type, target = rels.get(rel_id, ("", ""))
        kind = rel_type.rpartition("/")[2].lower()
        if kind in ("chartsheet", "dialogsheet"):
            sheets.append(SheetEntry(name, state, kind, None))
            continue
        if not target or pkg.info(target) is None:
            raise corrupt(f"找不到工作表「{name[:40]}」的內容")
        sheets.append(SheetEntry(name, state, kind, target))
    folder = posixpath.dirname(part)
    shared = styles = None
    for rel_type, target in rels.values():
        if rel_type.endswith("/sharedStrings") and pkg.info(target) is not None:
            shared = target
        elif rel_type.endswith("/styles") and pkg.info(target) is not None:
            styles = target
    if shared is None and pkg.info(posixpath.join(folder, "sharedStrings.xml")) is not None:
        shared = posixpath.join(folder, "sharedStrings.xml")
    if styles is None and pkg.info(posixpath.join(folder, "styles.xml")) is not None:
        styles = posixpath.join(folder, "styles.xml")
    return Structure(tuple(sheets), date1904, shared, styles)

"""The lowest layer: a file on disk -> sparse sheets of cell values (``Workbook``), or a precise ``FileProblem``.

The files come from outside (units e-mail them in), so everything here assumes they may be
broken or hostile:

* the format is decided from the CONTENT (``sniff``), never from the file name;
* ZIP packages are checked from their central directory before anything is inflated, and
  every member is inflated by a guarded reader that stops as soon as more comes out than
  was declared or allowed (``zipguard``);
* every XML part's prolog is checked for DOCTYPE / ENTITY declarations, and every part we
  parse goes through defusedxml (``xmlparts``);
* .xlsx / .xlsm: cell values come from python-calamine, in this process, once each sheet's
  span and the parts it holds whole are known to fit the memory bounds (``xlsx``); what
  calamine cannot serve is read by ``fallback``;
* .xls, .xlsb and .ods are read by python-calamine in a child process bounded in memory and
  time, answering JSON (``isolated``, ``bounded``): calamine can panic or abort on those.
"""

from __future__ import annotations

import os
import stat

from qos_xl.core.problems import FileProblem
from qos_xl.process import paused_gc
from qos_xl.intake import xmlparts, zipguard
from qos_xl.intake.book import ErrorValue, Sheet, Workbook
from qos_xl.intake.bounded import read_isolated
from qos_xl.intake.sniff import (KIND_NOUNS, SNIFF_BYTES, SPREADSHEET_2003, SPREADSHEET_KINDS, detected_noun, read_package_kind,
                                 sniff, sniff_head)
from qos_xl.intake.xlsx import read_xlsx
from qos_xl.intake.zipguard import CHUNK, Limits, Package, corrupt, human_size

__all__ = ["ErrorValue", "Limits", "Sheet", "Workbook", "open_workbook", "sniff"]


def open_workbook(path, limits: Limits = Limits(), wanted=None) -> Workbook:
    """Read the workbook at ``path`` into sparse sheets; raise ``FileProblem`` when it cannot be read.

    ``wanted(name, state)`` may spare reading sheets the caller does not need (xlsx only):
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
            return _open_zip(Package(f, path, st.st_size, limits), limits, wanted)
        if kind == "ole":
            f.seek(0)
            return _open_ole(f.read(limits.max_file_bytes + 1), path, limits)
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
            raise FileProblem("file-not-spreadsheet", detected=KIND_NOUNS["doc"])
        if _u16("PowerPoint Document") in data:
            raise FileProblem("file-not-spreadsheet", detected=KIND_NOUNS["ppt"])
    book = read_isolated(path, "xls", limits)
    book.has_macros = book.has_macros or _OLE_VBA in data
    return book


# ------------------------------------------------------------------------------------------
# ZIP packages: .xlsx / .xlsm, .xlsb, .ods, and what only looks like them
# ------------------------------------------------------------------------------------------

def _open_zip(pkg: Package, limits: Limits, wanted=None) -> Workbook:
    kind = read_package_kind(pkg)
    if kind == "ods":
        zipguard.scan_prologs(pkg)
        macros = any(n.lower().startswith(("basic/", "scripts/")) and not n.endswith("/") for n in pkg.names())
        return _isolated_package(pkg, "ods", limits, macros, lambda name: name.lower().endswith(".xml"))
    workbook_part = xmlparts.find_workbook_part(pkg)   # the package's own root relationship first: xl/ is only usual
    if workbook_part is None:
        if kind in SPREADSHEET_KINDS:
            raise corrupt("找不到活頁簿內容 xl/workbook.xml")
        raise FileProblem("file-not-spreadsheet", detected=KIND_NOUNS[kind])
    if workbook_part.lower().endswith(".bin"):
        zipguard.scan_prologs(pkg)
        macros = any(n.lower().endswith("vbaproject.bin") for n in pkg.names())
        return _isolated_package(pkg, "xlsb", limits, macros, lambda name: True)
    with paused_gc():      # many small acyclic objects: the cyclic GC would only rescan them
        return read_xlsx(pkg, workbook_part, limits, wanted)


def _isolated_package(pkg: Package, fmt: str, limits: Limits, macros: bool, inflated) -> Workbook:
    """A package calamine reads in the isolated worker.  calamine inflates members itself:
    each one it may read is inflated once by the guard first, so a member that lies about
    its size is refused before calamine sees it."""
    for info in pkg.members.values():
        if inflated(info.filename):
            stream = pkg.open(info)
            while stream.read(CHUNK):
                pass
    book = read_isolated(pkg.path, fmt, limits)
    book.has_macros = book.has_macros or macros
    return book

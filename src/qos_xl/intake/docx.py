"""A Word document (.docx, .docm) read with python-docx behind the ZIP guard: its paragraphs and tables, in order.

python-docx opens the package with ``zipfile``, which trusts the sizes a member declares.
So the package is first checked by the ZIP guard (sizes, ratios, member count, DOCTYPE and
ENTITY declarations refused), every member is inflated by the guard's bounded reader (CRC
checked), and python-docx reads an in-memory copy made of those verified bytes.  A macro
project stays an inert blob: nothing is run, and the copy says "document" where a .docm or
a template says "macro-enabled" or "template", the only difference python-docx refuses.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

from qos_xl.core.problems import FileProblem
from qos_xl.intake.documents import DOCUMENT_LIMITS, DOCX, KIND_NAMES
from qos_xl.intake.zipguard import Limits, Package, human_size, read_all, scan_prologs

_MAIN_TYPE = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_OTHER_MAIN_TYPES = (b"application/vnd.ms-word.document.macroEnabled.main+xml",
                     b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
                     b"application/vnd.ms-word.template.macroEnabledTemplate.main+xml")
_NESTING_MAX = 8          # tables inside table cells, read this deep


@dataclass(frozen=True)
class Table:
    """A top-level table: its number in the document (1-based) and each row's cell texts.

    A merged cell's text is repeated in every row and column it spans; a table nested in a
    cell is read into that cell's text, a row to a line."""

    number: int
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class WordDocument:
    """The body of a Word document: paragraphs (their text) and tables, in reading order."""

    blocks: tuple[str | Table, ...]


def read_docx(path, limits: Limits = DOCUMENT_LIMITS) -> WordDocument:
    """Read a .docx/.docm; raise ``FileProblem`` when it cannot be read safely."""
    from docx import Document as open_document   # python-docx and lxml: only when a Word file comes
    from docx.table import Table as DocxTable

    copy = _verified_copy(path, limits)
    try:
        document = open_document(copy)
        blocks: list[str | Table] = []
        for item in document.iter_inner_content():
            if isinstance(item, DocxTable):
                blocks.append(Table(sum(isinstance(b, Table) for b in blocks) + 1, _rows(item, 0)))
            else:
                blocks.append(item.text)
    except FileProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever python-docx or lxml raise on a damaged part
        raise FileProblem("document-corrupt", kind=KIND_NAMES[DOCX], detail=_reason(exc)) from None
    return WordDocument(tuple(blocks))


def _verified_copy(path, limits: Limits) -> io.BytesIO:
    """The package rebuilt in memory from members the ZIP guard inflated and checked."""
    path = os.fspath(path)
    size = os.stat(path).st_size
    if size > limits.max_file_bytes:
        raise FileProblem("file-too-large", size=human_size(size), limit=human_size(limits.max_file_bytes))
    out = io.BytesIO()
    with open(path, "rb") as f:
        pkg = Package(f, path, size, limits)
        scan_prologs(pkg)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
            for info in pkg.members.values():
                data = read_all(pkg, info)
                if info.filename == "[Content_Types].xml":
                    for other in _OTHER_MAIN_TYPES:
                        data = data.replace(other, _MAIN_TYPE)
                copy.writestr(info.filename, data)
    out.seek(0)
    return out


def _rows(table, depth: int) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(_cell_text(cell, depth) for cell in row.cells) for row in table.rows)


def _cell_text(cell, depth: int) -> str:
    """A cell's paragraphs, and the rows of tables nested in it, one per line."""
    from docx.table import Table as DocxTable

    lines = []
    for item in cell.iter_inner_content():
        if isinstance(item, DocxTable):
            if depth < _NESTING_MAX:
                for row in _rows(item, depth + 1):
                    lines.append(" ".join(_distinct(row)))
        else:
            lines.append(item.text)
    return "\n".join(lines).strip()


def _distinct(row: tuple[str, ...]) -> list[str]:
    """A row's texts, a horizontally merged cell once, blanks dropped."""
    found: list[str] = []
    for value in row:
        if value and (not found or found[-1] != value):
            found.append(value)
    return found


def _reason(exc: BaseException) -> str:
    name = type(exc).__name__
    if "XMLSyntax" in name:
        return "文件內容的 XML 格式錯誤"
    if isinstance(exc, KeyError):
        return "文件缺少必要的組成部分"
    return "python-docx 無法解讀文件結構"

"""What a document a unit sends is (PDF, Word .docx/.docm/.doc, OpenDocument .odt), by its content.

A document is never a spreadsheet: this module is asked only about files the spreadsheet
reader refused.  It tells what the content is (``kind``), what the file name claims
(``claimed``), and why the file cannot be opened, if it cannot (empty, encrypted, damaged,
not a document at all).  Nothing is run; ZIP packages go through the ZIP guard first.
"""

from __future__ import annotations

import io
import os
import re
import stat
from dataclasses import dataclass

from qos_xl.core.names import split_suffix
from qos_xl.core.problems import FileProblem
from qos_xl.intake.sniff import KIND_NOUNS, SNIFF_BYTES, SPREADSHEET_KINDS, detected_noun, read_package_kind, sniff_head
from qos_xl.intake.zipguard import Limits, Package, human_size, read_all, scan_prologs

PDF, DOCX, DOC, ODT = "pdf", "docx", "doc", "odt"
KIND_NAMES = {kind: KIND_NOUNS[kind] for kind in (PDF, DOCX, DOC, ODT)}      # named from the one table
KIND_SUFFIXES = {PDF: ".pdf", DOCX: ".docx", DOC: ".doc", ODT: ".odt"}
SUFFIX_KINDS = {".pdf": PDF, ".docx": DOCX, ".docm": DOCX, ".dotx": DOCX, ".dotm": DOCX, ".doc": DOC, ".dot": DOC,
                ".odt": ODT, ".ott": ODT}
# a document is small next to a workbook: tighter bounds on what inflating it may cost
DOCUMENT_LIMITS = Limits(max_part_bytes=32 * 2**20, max_total_bytes=96 * 2**20, max_members=1000)

_PDF_ENCRYPT = re.compile(rb"/Encrypt(?![A-Za-z0-9])")
_PDF_TAIL = 2048


@dataclass(frozen=True)
class Document:
    """A file the spreadsheet reader refused, seen as a document."""

    kind: str | None                     # what the content is (PDF, DOCX, DOC, ODT), None: not a document
    claimed: str | None                  # what the file name says it is
    problem: FileProblem | None = None   # why it cannot be opened
    has_macros: bool = False             # a .docm's VBA project: never run, never copied

    @property
    def name(self) -> str:
        """The zh-TW name of the document's kind (content first, else what its name says)."""
        return KIND_NAMES.get(self.kind or self.claimed or "", "文件")


def claimed_kind(file_name: str) -> str | None:
    """The document kind a file name claims by its extension."""
    return SUFFIX_KINDS.get(split_suffix(file_name)[1].lower())


def examine(path, file_name: str, limits: Limits = DOCUMENT_LIMITS) -> Document | None:
    """The file as a document; None when neither its content nor its name says it is one."""
    claimed = claimed_kind(file_name)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size == 0:
            return Document(None, claimed, FileProblem("file-empty")) if claimed else None
        if st.st_size > limits.max_file_bytes:
            problem = FileProblem("file-too-large", size=human_size(st.st_size), limit=human_size(limits.max_file_bytes))
            return Document(None, claimed, problem) if claimed else None
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
            kind = sniff_head(head, st.st_size)
            if kind == "pdf":
                f.seek(0)
                return _pdf(f.read(limits.max_file_bytes + 1), claimed)
            if kind == "zip":
                return _zip(f, os.fspath(path), st.st_size, claimed, limits)
            if kind == "ole":
                f.seek(0)
                return _ole(f.read(limits.max_file_bytes + 1), claimed)
    except OSError:
        return Document(None, claimed, FileProblem("file-corrupt", detail="無法讀取檔案")) if claimed else None
    if claimed is None:
        return None
    return Document(None, claimed, FileProblem("document-not-readable", claimed=KIND_NAMES[claimed],
                                               detected=detected_noun(kind, head)))


def _pdf(data: bytes, claimed: str | None) -> Document:
    if not data.lstrip(b"\x00\t\n\f\r ").startswith(b"%PDF-"):
        return Document(PDF, claimed, FileProblem("document-corrupt", kind=KIND_NAMES[PDF], detail="檔頭不是 %PDF-"))
    if _PDF_ENCRYPT.search(data):
        return Document(PDF, claimed, FileProblem("document-encrypted", kind=KIND_NAMES[PDF]))
    if b"%%EOF" not in data[-_PDF_TAIL:]:
        return Document(PDF, claimed, FileProblem("document-corrupt", kind=KIND_NAMES[PDF], detail="檔案不完整，缺少結尾"))
    return Document(PDF, claimed)


def _zip(f, path: str, size: int, claimed: str | None, limits: Limits) -> Document | None:
    try:
        pkg = Package(f, path, size, limits)
        kind = read_package_kind(pkg)
    except FileProblem as problem:
        return Document(None, claimed, problem) if claimed else None
    if kind == ODT:
        return _checked(Document(ODT, claimed), pkg, lambda: _odt_encrypted(pkg))
    if kind in ("docx", "docm"):
        return _checked(Document(DOCX, claimed, has_macros=kind == "docm"), pkg, lambda: False)
    if claimed is None or kind in SPREADSHEET_KINDS:
        return None                      # a (damaged) workbook, or an archive named like nothing we read
    return Document(None, claimed, FileProblem("document-not-readable", claimed=KIND_NAMES[claimed],
                                               detected=KIND_NOUNS[kind]))


def _checked(document: Document, pkg: Package, encrypted) -> Document:
    """The document, or the same with the problem its package's XML or encryption gives."""
    try:
        scan_prologs(pkg)
        if encrypted():
            return Document(document.kind, document.claimed, FileProblem("document-encrypted", kind=document.name),
                            document.has_macros)
    except FileProblem as problem:
        return Document(document.kind, document.claimed, problem, document.has_macros)
    return document


def _odt_encrypted(pkg: Package) -> bool:
    """An encrypted .odt lists ``manifest:encryption-data`` for its parts (the ZIP itself is not encrypted)."""
    info = pkg.info("META-INF/manifest.xml")
    return info is not None and b"encryption-data" in read_all(pkg, info)


def _ole(data: bytes, claimed: str | None) -> Document | None:
    import olefile  # only for OLE files that are not workbooks: rare

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except (OSError, ValueError, IndexError, TypeError):
        return Document(None, claimed, FileProblem("document-corrupt", kind=KIND_NAMES[claimed], detail="OLE 結構損毀")) \
            if claimed else None
    with ole:
        if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
            # an encrypted .docx (or .xlsx: the spreadsheet reader has said so already)
            return Document(claimed, claimed, FileProblem("document-encrypted", kind=KIND_NAMES[claimed])) \
                if claimed else None
        if not ole.exists("WordDocument"):
            if claimed is None:
                return None
            detected = KIND_NOUNS["ppt" if ole.exists("PowerPoint Document") else "ole"]
            return Document(None, claimed, FileProblem("document-not-readable", claimed=KIND_NAMES[claimed],
                                                       detected=detected))
        try:
            fib = ole.openstream("WordDocument").read(12)
        except (OSError, ValueError, IndexError):
            fib = b""
        if len(fib) < 12:
            return Document(DOC, claimed, FileProblem("document-corrupt", kind=KIND_NAMES[DOC], detail="WordDocument 不完整"))
        flags = int.from_bytes(fib[10:12], "little")
        macros = ole.exists("Macros") or ole.exists("_VBA_PROJECT_CUR")
        if flags & 0x0100:                                   # FibBase.fEncrypted ([MS-DOC] 2.5.2)
            return Document(DOC, claimed, FileProblem("document-encrypted", kind=KIND_NAMES[DOC]), macros)
        return Document(DOC, claimed, has_macros=macros)

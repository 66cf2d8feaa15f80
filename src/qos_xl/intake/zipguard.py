"""The one ZIP guard: a package's central directory checked before anything is inflated, and members
inflated by a reader that never trusts their declared size.

Used for every ZIP-based file a unit sends (.xlsx, .xlsm, .ods, .docx) and for ZIP
attachments of e-mail.  Checks before inflating: member count, declared sizes (each and
in total), compression ratio, encryption, compression method, duplicate and overlapping
members.  While inflating: the output is stopped as soon as it exceeds what was declared
or allowed, and the CRC is checked.  XML parts: a DOCTYPE or ENTITY declaration in the
prolog refuses the file (``scan_prologs``), whether or not the part is parsed.
"""

from __future__ import annotations

import codecs
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from qos_xl.core.problems import FileProblem


@dataclass(frozen=True)
class Limits:
    """Bounds on what one file may cost to read."""

    max_file_bytes: int = 20 * 2**20
    max_part_bytes: int = 100 * 2**20        # inflated size of any one zip member
    max_total_bytes: int = 300 * 2**20       # inflated total
    max_ratio: float = 200.0                 # inflated/compressed per member (members >= 1 MiB inflated)
    max_members: int = 2000
    max_cells: int = 500_000                 # non-empty cells per sheet
    max_rows: int = 1_048_576
    max_cols: int = 16_384                   # Excel's own limits
    memory_bytes: int = 768 * 2**20          # address space of an isolated reading worker
    max_total_cells: int = 2_000_000         # non-empty cells in the whole workbook
    timeout_seconds: float = 30.0            # wall clock for an isolated reading worker
    # python-calamine reading an .xlsx in this process allocates a dense grid from a sheet's
    # first to its last cell (~50 bytes a cell at its peak), and the parts it reads (sheet,
    # shared strings, styles) are held whole, here and in calamine (up to ~5x their size);
    # a sheet beyond these bounds is read by intake/fallback.py, streamed and sparse
    max_dense_cells: int = 2_000_000
    max_whole_part_bytes: int = 4 * 2**20


def human_size(n: int) -> str:
    if n >= 2**20:
        text = f"{n / 2**20:.1f}".removesuffix(".0")
        return f"{text} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} 位元組"


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")   # signature ... name length, extra length
_EOCD = struct.Struct("<4s4H2LH")
RATIO_FLOOR = 2**20                           # ratio is judged only for members >= 1 MiB inflated
_CD_ENTRY_BUDGET = 1024                        # central directory bytes allowed per member
CHUNK = 64 * 1024


def too_large(detail: str) -> FileProblem:
    return FileProblem("archive-too-large", detail=detail)


def corrupt(detail: str) -> FileProblem:
    return FileProblem("file-corrupt", detail=detail)


class Package:
    """A ZIP package whose central directory has passed the safety checks."""

    def __init__(self, f, path: str, size: int, limits: Limits):
        self.f = f
        self.path = path
        self.limits = limits
        self.inflated = 0               # bytes that came out of members so far
        self._precheck_eocd(size)
        try:
            zf = zipfile.ZipFile(f)
            infos = zf.infolist()
        except zipfile.BadZipFile:
            raise corrupt("ZIP 目錄損毀或檔案不完整") from None
        except (zipfile.LargeZipFile, NotImplementedError):
            raise FileProblem("archive-invalid", detail="不支援的 ZIP 結構") from None
        except (OSError, EOFError, ValueError, struct.error, UnicodeDecodeError):
            raise corrupt("ZIP 目錄損毀") from None
        self.zf = zf
        cd_start = getattr(zf, "start_dir", size)
        self.members: dict[str, zipfile.ZipInfo] = {}
        self._next_start: dict[int, int] = {}
        self._check(infos, cd_start)

    # -- before anything is inflated -----------------------------------------------------

    def _precheck_eocd(self, size: int) -> None:
        """Refuse a central directory too big for max_members before zipfile parses it."""
        tail_len = min(size, _EOCD.size + 65535)
        self.f.seek(size - tail_len)
        tail = self.f.read(tail_len)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD.size > len(tail):
            raise corrupt("找不到 ZIP 目錄，檔案可能不完整")
        _sig, _disk, _cd_disk, _n_disk, n_total, cd_size, _cd_off, _comment = _EOCD.unpack_from(tail, at)
        limit = self.limits.max_members
        if n_total != 0xFFFF and n_total > limit:
            raise too_large(f"內含 {n_total:,} 個檔案，上限 {limit:,} 個")
        if cd_size != 0xFFFFFFFF and cd_size > limit * _CD_ENTRY_BUDGET:
            raise too_large(f"ZIP 目錄 {human_size(cd_size)} 過大")

    def _check(self, infos: list[zipfile.ZipInfo], cd_start: int) -> None:
        limits = self.limits
        if len(infos) > limits.max_members:
            raise too_large(f"內含 {len(infos):,} 個檔案，上限 {limits.max_members:,} 個")
        total = 0
        spans = []
        for info in infos:
            name = info.filename
            key = name.replace("\\", "/").lower()
            if key in self.members:
                raise FileProblem("archive-invalid", detail=f"重複的成員名稱 {name[:80]}")
            self.members[key] = info
            if info.flag_bits & 0x1:
                raise FileProblem("file-encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise FileProblem("archive-invalid", detail=f"不支援的壓縮方式（{name[:80]}）")
            if info.file_size > limits.max_part_bytes:
                raise too_large(f"{name[:80]} 解壓後 {human_size(info.file_size)}，上限 {human_size(limits.max_part_bytes)}")
            total += info.file_size
            if total > limits.max_total_bytes:
                raise too_large(f"解壓後總計超過 {human_size(limits.max_total_bytes)}")
            if info.file_size >= RATIO_FLOOR and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                ratio = info.file_size / max(info.compress_size, 1)
                raise too_large(f"{name[:80]} 壓縮比 {ratio:,.0f} 倍，上限 {limits.max_ratio:,.0f} 倍")
            if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                raise corrupt(f"{name[:80]} 的大小記錄不一致")
            # the least a member can occupy: local header + data (the exact extent, with the
            # local name and extra field, is checked again when the member is opened)
            start = info.header_offset
            if start < 0:                   # zipfile shifts offsets by a damaged directory's position
                raise corrupt("ZIP 目錄損毀")
            end = start + _LOCAL_HEADER.size + info.compress_size
            spans.append((start, end, name))
        spans.sort()
        for (s1, e1, n1), (s2, _e2, n2) in zip(spans, spans[1:]):
            if e1 > s2:
                raise FileProblem("archive-invalid", detail=f"成員 {n1[:60]} 與 {n2[:60]} 的資料重疊")
        for (start, end, name), following in zip(spans, [s for s, _, _ in spans[1:]] + [cd_start]):
            if end > following:
                raise FileProblem("archive-invalid", detail=f"成員 {name[:60]} 的資料超出範圍")
            self._next_start[start] = following

    # -- lookups ---------------------------------------------------------------------------

    def info(self, name: str) -> zipfile.ZipInfo | None:
        return self.members.get(name.lower())

    def names(self):
        return (info.filename for info in self.members.values())

    def open(self, info: zipfile.ZipInfo) -> "MemberStream":
        return MemberStream(self, info)


class MemberStream:
    """Inflate one member, never trusting its declared size: stop as soon as more comes out."""

    def __init__(self, pkg: Package, info: zipfile.ZipInfo):
        self.pkg = pkg
        self.info = info
        self.name = info.filename[:80]
        f = pkg.f
        f.seek(info.header_offset)
        header = f.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size:
            raise corrupt(f"{self.name} 的資料不完整")
        fields = _LOCAL_HEADER.unpack(header)
        if fields[0] != b"PK\x03\x04":
            raise corrupt(f"{self.name} 的檔頭損毀")
        if fields[2] & 0x1:
            raise FileProblem("file-encrypted")
        name_len, extra_len = fields[9], fields[10]
        self.pos = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
        self.left = info.compress_size                # compressed bytes not yet read
        if self.pos + self.left > pkg._next_start.get(info.header_offset, self.pos + self.left):
            raise FileProblem("archive-invalid", detail=f"成員 {self.name} 的資料與其他成員重疊")
        self.limit = min(info.file_size, pkg.limits.max_part_bytes)
        self.out = 0
        self.crc = 0
        self.done = False
        self.inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None

    def _raw(self, n: int) -> bytes:
        if self.left <= 0:
            return b""
        self.pkg.f.seek(self.pos)
        chunk = self.pkg.f.read(min(n, self.left))
        if not chunk:
            raise corrupt(f"{self.name} 的資料不完整")
        self.pos += len(chunk)
        self.left -= len(chunk)
        return chunk

    def read(self, n: int = CHUNK) -> bytes:
        if self.done:
            return b""
        inflater = self.inflater
        if inflater is None:
            data = self._raw(n)
        else:
            data = b""
            try:
                while not data and not inflater.eof:
                    if inflater.unconsumed_tail:
                        data = inflater.decompress(inflater.unconsumed_tail, n)
                    else:
                        raw = self._raw(max(n, 16384))
                        if not raw:
                            raise corrupt(f"{self.name} 的壓縮資料不完整")
                        data = inflater.decompress(raw, n)
            except zlib.error:
                raise corrupt(f"{self.name} 的壓縮資料損毀") from None
        if data:
            self.out += len(data)
            if self.out > self.limit:
                if self.out > self.info.file_size:
                    raise too_large(f"{self.name} 解壓後超過記錄的大小 {human_size(self.info.file_size)}")
                raise too_large(f"{self.name} 解壓後超過 {human_size(self.pkg.limits.max_part_bytes)}")
            self.pkg.inflated += len(data)
            if self.pkg.inflated > self.pkg.limits.max_total_bytes:
                raise too_large(f"解壓後總計超過 {human_size(self.pkg.limits.max_total_bytes)}")
            self.crc = zlib.crc32(data, self.crc)
            return data
        self._finish()
        return b""

    def _finish(self) -> None:
        self.done = True
        if self.out != self.info.file_size:
            raise corrupt(f"{self.name} 的大小與記錄不符")
        if self.crc != self.info.CRC:
            raise corrupt(f"{self.name} 的校驗碼（CRC）錯誤")


def read_all(pkg: Package, info: zipfile.ZipInfo) -> bytes:
    stream = pkg.open(info)
    parts = []
    while chunk := stream.read(CHUNK):
        parts.append(chunk)
    return b"".join(parts)


# -- DOCTYPE/ENTITY refusal ----------------------------------------------------------------

PROLOG_MAX = 64 * 1024
XML_SUFFIXES = (".xml", ".rels", ".vml")


def _prolog_encoding(raw: bytes) -> tuple[str, int]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8", 3
    if raw.startswith(b"\xff\xfe"):
        return "utf-16-le", 2
    if raw.startswith(b"\xfe\xff"):
        return "utf-16-be", 2
    if raw.startswith(b"<\x00"):
        return "utf-16-le", 0
    if raw.startswith(b"\x00<"):
        return "utf-16-be", 0
    return "utf-8", 0


def _declaration_then_root(head: bytes) -> bool:
    """The usual prolog, at once: (a UTF-8 BOM,) an XML declaration, white space, the root's start tag."""
    at = 3 if head.startswith(codecs.BOM_UTF8) else 0
    if not head.startswith(b"<?xml", at):
        return False
    end = head.find(b"?>", at)
    rest = head[end + 2:].lstrip(b" \t\r\n") if end > 0 else b""
    return rest[:1] == b"<" and rest[1:2] not in (b"!", b"?", b"")


def scan_prolog(pkg: Package, info: zipfile.ZipInfo, raw: bytes | None = None) -> None:
    """xml-unsafe when a DOCTYPE or ENTITY declaration stands before the root element (``raw``:
    the part already inflated, else it is read from the package)."""
    name = info.filename[:80]
    stream = pkg.open(info) if raw is None else io.BytesIO(raw)
    raw = stream.read(4096)
    if _declaration_then_root(raw):
        return
    enc, skip = _prolog_encoding(raw)
    decoder = codecs.getincrementaldecoder(enc)(errors="replace")
    text = decoder.decode(raw[skip:])
    seen = len(raw)
    pos = 0
    while True:
        more = False
        n = len(text)
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            more = True
        elif text.startswith("<?", pos):
            end = text.find("?>", pos + 2)
            if end < 0:
                more = True
            else:
                pos = end + 2
                continue
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
            if end < 0:
                more = True
            else:
                pos = end + 3
                continue
        elif text.startswith("<!", pos) or (text[pos] == "<" and n - pos < 2):
            word = text[pos: pos + 9].upper()
            if word.startswith("<!DOCTYPE"):
                raise FileProblem("xml-unsafe", detail=f"DOCTYPE 宣告 於 {name}")
            if word.startswith("<!ENTITY"):
                raise FileProblem("xml-unsafe", detail=f"ENTITY 宣告 於 {name}")
            if n - pos < 9:
                more = True
            else:
                raise FileProblem("xml-unsafe", detail=f"根元素前有不允許的宣告 於 {name}")
        else:
            return                                  # the root element (or not XML at all)
        if more:
            chunk = stream.read(4096)
            if not chunk:
                return
            seen += len(chunk)
            if seen > PROLOG_MAX:
                raise FileProblem("xml-unsafe", detail=f"XML 前置區段過長 於 {name}")
            text = text[pos:] + decoder.decode(chunk)
            pos = 0


def scan_prologs(pkg: Package, held: dict[str, bytes] | None = None) -> None:
    """Every XML part of the package refused when a DOCTYPE or ENTITY declaration opens it
    (``held``: parts already inflated, by member name)."""
    held = held or {}
    for info in pkg.members.values():
        if info.filename.lower().endswith(XML_SUFFIXES) and info.file_size:
            scan_prolog(pkg, info, held.get(info.filename))

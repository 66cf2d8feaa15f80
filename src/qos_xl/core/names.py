"""The one way qos-xl makes a file name from untrusted text: valid on Windows, macOS and Linux.

Every name qos-xl writes (templates, feedback copies, replies, receipts, saved attachments,
the consolidated workbook) goes through ``safe_filename``: no path, no character Windows
refuses (``<>:"/\\|?*``, control characters), no lone surrogate (a name read from disk in a
legacy encoding arrives with them; they cannot be written as UTF-8), no trailing dot or space, no reserved device
name (``CON``, ``PRN``, ``AUX``, ``NUL``, ``COM1``-``COM9``, ``LPT1``-``LPT9``, with any
extension), no invisible direction marks, and bounded in characters and UTF-8 bytes so
that a suffix added later still fits the 255-byte limit of common file systems.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_CHARS = 150
MAX_NAME_BYTES = 180              # ext4 and NTFS allow 255; callers append suffixes of their own

_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_FORBIDDEN = re.compile(r'[\\/:*?"<>|\ud800-\udfff\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffd]')
_SPACES = re.compile(r"\s+")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_RESERVED = re.compile(r"^(?:CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9¹²³]|LPT[0-9¹²³])$", re.IGNORECASE)


def split_suffix(name: str) -> tuple[str, str]:
    """("報告", ".xlsx") — a suffix is a short ASCII alphanumeric tail; trailing dots and spaces are
    dropped first, as Windows drops them ("報告.xlsx." is 報告.xlsx there)."""
    stem, dot, ext = name.rstrip(". ").rpartition(".")
    if dot and stem and 1 <= len(ext) <= 5 and ext.isascii() and ext.isalnum():
        return stem, "." + ext
    return name, ""


def safe_filename(name: str, *, fallback: str = "檔案", max_chars: int = MAX_NAME_CHARS,
                  max_bytes: int = MAX_NAME_BYTES) -> str:
    """``name`` made into a valid file name; its extension (if any) kept, ``fallback`` if nothing is left."""
    name = unicodedata.normalize("NFC", _CONTROLS.sub("", name or ""))
    name = _FORBIDDEN.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")
    stem, suffix = split_suffix(name)
    stem = stem.strip(" .")
    if not stem or set(stem) <= {"_"}:
        stem = fallback
    if _RESERVED.match(stem.split(".")[0].strip()):
        stem = "_" + stem
    while len(stem) > 1 and (len(stem) + len(suffix) > max_chars or len((stem + suffix).encode("utf-8")) > max_bytes):
        stem = stem[:-1]
    stem = stem.rstrip(" .") or fallback
    return stem + suffix


def display_name(name: str) -> str:
    """A name read from disk as a user should see it, and as text that can be written anywhere.

    A file system that did not hold the name in UTF-8 (a Big5 name from an old Windows share
    or a zip unpacked on Linux) gives it with lone surrogates; each such ``/``-separated part
    is decoded as cp950 (Big5), or with U+FFFD where even that fails.
    """
    if name.isascii() or not _SURROGATES.search(name):
        return name
    parts = []
    for part in name.split("/"):
        if _SURROGATES.search(part):
            raw = part.encode("utf-8", "surrogateescape")
            try:
                part = raw.decode("cp950")
            except UnicodeDecodeError:
                part = raw.decode("utf-8", "replace")
        parts.append(part)
    return "/".join(parts)


def unit_stem(short_name: str) -> str:
    """How a unit is named in its files (the templates): its short name made safe, spaces as underscores."""
    return safe_filename(short_name.replace(" ", "_"), fallback="單位", max_bytes=120)

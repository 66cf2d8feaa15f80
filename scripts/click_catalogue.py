"""Write click's zh-TW catalogue, src/qos_xl/cli/locale/zh_TW/LC_MESSAGES/qos_xl.mo, from qos_xl.cli.zh.CATALOGUE.

Run after changing CATALOGUE (``python scripts/click_catalogue.py``); tests/test_cli.py
fails while the committed .mo and CATALOGUE differ. The GNU .mo layout: a header of seven
32-bit words, the tables of original and translated strings (length, offset), then the
NUL-terminated strings; a plural entry's id is "singular\\0plural".
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from qos_xl.cli.zh import CATALOGUE, LANGUAGE, DOMAIN, locale_dir

HEADER = "Content-Type: text/plain; charset=UTF-8\nLanguage: zh_TW\nPlural-Forms: nplurals=1; plural=0;\n"


def mo_bytes(catalogue: dict) -> bytes:
    """The .mo file of ``catalogue`` (msgid or (singular, plural) -> translation), ids sorted."""
    entries = {"": HEADER}
    for msgid, text in catalogue.items():
        entries["\0".join(msgid) if isinstance(msgid, tuple) else msgid] = text
    ids = sorted(entries)
    originals = [i.encode("utf-8") for i in ids]
    translations = [entries[i].encode("utf-8") for i in ids]
    count = len(ids)
    strings_at = 28 + 16 * count
    table, blob = [], b""
    for data in originals + translations:
        table.append((len(data), strings_at + len(blob)))
        blob += data + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, 28, 28 + 8 * count, 0, strings_at)
    return header + b"".join(struct.pack("<2I", *entry) for entry in table) + blob


def mo_path() -> Path:
    return Path(locale_dir()) / LANGUAGE / "LC_MESSAGES" / f"{DOMAIN}.mo"


if __name__ == "__main__":
    target = mo_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(mo_bytes(CATALOGUE))
    print(f"{target}: {len(CATALOGUE)} strings", file=sys.stderr)

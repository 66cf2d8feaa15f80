"""The clerk-edited CSV files and where they sit in a workspace (paths relative to its root)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

CONFIG_DIR = Path("workbooks/config")
CONFIG_FILES = ("plan.csv", "settings.csv", "units.csv")
PLAN_CSV, SETTINGS_CSV, UNITS_CSV = (CONFIG_DIR / name for name in CONFIG_FILES)
INBOX_DIR = Path("workbooks/inbox")
TEMPLATES_DIR = Path("workbooks/templates")
OUTPUTS_DIR = Path("outputs")
RECEIPTS_DIR = OUTPUTS_DIR / "receipts"


class ConfigError(Exception):
    """A data file the secretariat maintains is broken; ``messages`` say where, in zh-TW."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]


def decode_csv_bytes(raw: bytes) -> str | None:
    """A CSV as Excel or a text editor saved it: UTF-8 (with or without BOM) or Big5; None if neither."""
    for encoding in ("utf-8-sig", "cp950"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def read_csv_rows(path: Path, required: tuple[str, ...]) -> list[CsvRow]:
    """Rows of a clerk-edited CSV (UTF-8 with or without BOM, or Big5 as Excel saves it)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError([f"找不到設定檔 {path}。請確認檔案存在，或以選項指定正確路徑。"])
    content = decode_csv_bytes(path.read_bytes())
    if content is None:
        raise ConfigError([f"{path} 的文字編碼無法辨識。請在 Excel 以「CSV UTF-8」格式另存。"])
    reader = csv.reader(content.splitlines())
    header = [h.strip() for h in next(reader, [])]
    missing = [name for name in required if name not in header]
    if missing:
        raise ConfigError([f"{path} 第 1 列缺少欄位「{'、'.join(missing)}」。第 1 列須為：{','.join(required)}"])
    rows = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        padded = cells + [""] * (len(header) - len(cells))
        rows.append(CsvRow(line, {h: v.strip() for h, v in zip(header, padded)}))
    return rows

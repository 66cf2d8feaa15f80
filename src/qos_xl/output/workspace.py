"""Making a workspace (``qos-xl init``): the bundled plan and registry copied for the clerk, empty folders, next steps.

Nothing is overwritten and nothing is left half-made: a folder that already has a config
is refused before anything is written, the config folder appears last (renamed into place
whole, so a folder is a workspace only once its three CSV files are there), and on any
failure everything made so far is removed again.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from qos_xl.core.config import CONFIG_DIR, CONFIG_FILES, INBOX_DIR, OUTPUTS_DIR, TEMPLATES_DIR
from qos_xl.core.files import os_reason, write_bytes_atomic
from qos_xl.data import bundled_config, demo_inbox

GUIDE_NAME = "說明.txt"
GUIDE = """\
qos-xl 工作區

這個資料夾是 qos-xl 的工作區：在這裡或其下任何子資料夾執行 qos-xl，都會使用這裡的設定與資料夾。

資料夾
  workbooks/config/     計畫項目 plan.csv、計畫設定 settings.csv、單位名冊 units.csv。
                        可用 Excel 編輯，存檔時請選「CSV UTF-8（逗號分隔）」。
  workbooks/templates/  qos-xl templates 產生的各單位範本。
  workbooks/inbox/      收件匣：各單位寄回的檔案存放於此（qos-xl 不會修改或刪除其中的檔案）。
  outputs/              彙整活頁簿；feedback/ 有問題檔案的標註副本與回覆文字；receipts/ 每封郵件的回覆文字。

接下來
  1. 確認 workbooks/config/ 的計畫年度（settings.csv）、計畫項目（plan.csv）與單位名冊（units.csv）。
  2. qos-xl templates    產生各單位的自行檢核表與工作計畫範本，寄給各單位。
  3. 把單位寄回的附件存入 workbooks/inbox/，或以 qos-xl ingest 郵件檔 自動存入。
  4. qos-xl validate     檢核收件匣中的檔案，列出每一個問題。
  5. qos-xl merge        產生彙整活頁簿（outputs/）。
  6. qos-xl status       查看哪些單位已繳交、哪些尚未繳交。

每個指令加上 --help 可看說明與範例，例如 qos-xl merge --help。
"""


class InitError(Exception):
    """The workspace could not be made; the zh-TW message says why. Nothing was left behind."""


@dataclass(frozen=True)
class MadeWorkspace:
    """What ``make_workspace`` made: paths relative to the workspace root, in the order made."""

    root: Path
    made: tuple[Path, ...]
    demo_files: int

    def to_dict(self) -> dict:
        return {"workspace": str(self.root.absolute()), "made": [p.as_posix() for p in self.made],
                "demo_files": self.demo_files}


def shown(folder: Path) -> str:
    """A folder as a message names it: as typed, or its full path when typed as "." (the current folder)."""
    return str(folder.absolute()) if folder == Path(".") else str(folder)


def make_workspace(target: Path, *, demo: bool = False) -> MadeWorkspace:
    """Make a workspace in ``target`` (made if missing); ``demo`` fills its inbox with the demo year."""
    target = Path(target)
    inbox = target / INBOX_DIR
    if target.exists() and not target.is_dir():
        raise InitError(f"{target} 是一個檔案，不是資料夾，沒有做任何變更。請指定要建立工作區的資料夾（可以是尚不存在的資料夾）。")
    if (target / CONFIG_DIR).exists():
        raise InitError(f"{shown(target)} 已經是 qos-xl 工作區（已有 {CONFIG_DIR.as_posix()}/），為免覆寫其中的計畫與名冊，"
                        "沒有做任何變更。要重新開始請另選一個資料夾。")
    if demo and inbox.is_dir() and any(inbox.iterdir()):
        raise InitError(f"收件匣 {inbox} 已有檔案，放入示範檔案會與真實收件混在一起，沒有做任何變更。"
                        "請在新的資料夾執行 qos-xl init --demo。")
    made: list[Path] = []
    try:
        for folder in _missing_folders(target, (INBOX_DIR, TEMPLATES_DIR, OUTPUTS_DIR)):
            folder.mkdir()
            made.append(folder)
        demo_files = 0
        if demo:
            for item in sorted(demo_inbox().iterdir(), key=lambda i: i.name):
                if item.is_file():
                    write_bytes_atomic(inbox / item.name, item.read_bytes())
                    made.append(inbox / item.name)
                    demo_files += 1
        guide = target / GUIDE_NAME
        if not guide.exists():
            # Notepad on older Windows reads UTF-8 only with a BOM, and shows lines only at CRLF.
            write_bytes_atomic(guide, GUIDE.replace("\n", "\r\n").encode("utf-8-sig"))
            made.append(guide)
        staging = target / CONFIG_DIR.parent / f".qos-config-{os.getpid()}-{secrets.token_hex(4)}"
        staging.mkdir()
        made.append(staging)
        for name in CONFIG_FILES:
            write_bytes_atomic(staging / name, (bundled_config() / name).read_bytes())
            made.append(staging / name)
        staging.rename(target / CONFIG_DIR)
    except BaseException as exc:
        _remove(made)
        if isinstance(exc, OSError):
            raise InitError(f"無法在 {target} 建立工作區：{os_reason(exc)}（{exc.filename or target}）。"
                            "沒有留下任何檔案；請確認該處可以寫入，或另選一個資料夾。") from None
        raise
    listed = [p.relative_to(target) for p in made
              if p.is_relative_to(target) and p != target and p.parent != inbox and not p.is_relative_to(staging)]
    return MadeWorkspace(root=target, made=(*listed, CONFIG_DIR), demo_files=demo_files)


def _missing_folders(target: Path, leaves: tuple[Path, ...]) -> list[Path]:
    """The folders to make, parents first: ``target``'s missing ancestors, ``target``, and the leaves with theirs."""
    candidates = [*reversed(target.parents), target]
    for leaf in leaves:
        candidates += [target / part for part in reversed(leaf.parents)] + [target / leaf]
    wanted: list[Path] = []
    for folder in candidates:
        if folder not in wanted and not folder.exists():
            wanted.append(folder)
    return wanted


def _remove(made: list[Path]) -> None:
    """Undo: remove what was made, newest first (folders are empty by then)."""
    for path in reversed(made):
        try:
            path.rmdir() if path.is_dir() else path.unlink()
        except OSError:
            continue

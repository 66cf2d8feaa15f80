"""The workspace a command works in: the folder holding ``workbooks/config/``, found from the current folder upwards.

A clerk keeps the year's files in a folder of their own (``qos-xl init`` makes one); every
command finds it from wherever it is started inside it, or is given ``--config``. The
default folders (inbox, templates, outputs) are the workspace's, so a command started
from a sub-folder reads and writes the same places as one started at the top.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from qos_xl.core.config import (CONFIG_DIR, CONFIG_FILES, INBOX_DIR, OUTPUTS_DIR, RECEIPTS_DIR, TEMPLATES_DIR,
                                ConfigError)

NOT_IN_WORKSPACE = ("這裡不在 qos-xl 工作區內（從 {here} 往上都找不到 workbooks/config/ 資料夾）。"
                    "請到工作區資料夾內執行，或先以「qos-xl init 資料夾」建立工作區。")


@dataclass(frozen=True)
class Workspace:
    """A workspace: its root folder (absolute) and the folder of its three CSV files."""

    root: Path
    config: Path

    def place(self, relative: Path) -> Path:
        """A default location in the workspace: relative to the current folder when that is inside it."""
        here = Path.cwd()
        if self.root == here or self.root in here.parents:
            return Path(os.path.relpath(self.root / relative, here))
        return self.root / relative

    @property
    def inbox(self) -> Path:
        return self.place(INBOX_DIR)

    @property
    def templates(self) -> Path:
        return self.place(TEMPLATES_DIR)

    @property
    def outputs(self) -> Path:
        return self.place(OUTPUTS_DIR)

    @property
    def receipts(self) -> Path:
        return self.place(RECEIPTS_DIR)

    def config_file(self, name: str) -> Path:
        """One of ``CONFIG_FILES``."""
        return self.config / name


def find_root(start: Path) -> Path | None:
    """The first folder from ``start`` upwards that holds ``workbooks/config/``; None if there is none."""
    start = Path(os.path.abspath(start))
    for folder in (start, *start.parents):
        if (folder / CONFIG_DIR).is_dir():
            return folder
    return None


def open_workspace(config: Path | None = None) -> Workspace:
    """The workspace of the current folder, or the one ``config`` (a ``--config`` folder) belongs to.

    ``config`` given as ``X/workbooks/config`` makes ``X`` the workspace; any other config
    folder keeps the defaults in the current folder's workspace (or the current folder).
    Raises ConfigError (zh-TW) outside any workspace, for a missing folder, or when any of
    the three CSV files is missing.
    """
    here = Path.cwd()
    if config is None:
        root = find_root(here)
        if root is None:
            raise ConfigError([NOT_IN_WORKSPACE.format(here=here)])
        folder = root / CONFIG_DIR
        said = Workspace(root, folder).place(CONFIG_DIR)
    else:
        said = Path(config)
        folder = Path(os.path.abspath(config))
        if not folder.is_dir():
            what = "是一個檔案，不是資料夾" if folder.exists() else "不存在"
            raise ConfigError([f"設定資料夾 {said} {what}。--config 須指定放有 {'、'.join(CONFIG_FILES)} 的資料夾。"])
        if folder.parts[-2:] == CONFIG_DIR.parts:
            root = folder.parent.parent
        else:
            root = find_root(here) or here
    missing = [name for name in CONFIG_FILES if not (folder / name).is_file()]
    if missing:
        raise ConfigError([f"設定資料夾 {said} 缺少 {'、'.join(missing)}。"
                           f"請把這些檔案放回該資料夾（可從 qos-xl init 建立的新工作區複製）。"])
    return Workspace(root=root, config=folder)

"""Workspaces as a clerk meets them: `qos-xl init`, commands found from any folder inside, refusals in zh-TW."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qos_xl.cli import cli
from qos_xl.core.config import CONFIG_FILES
from qos_xl.data import bundled_config
from qos_xl.output import workspace as made_here

from conftest import CONFIG, DEMO_INBOX


def qos(*args, cwd: Path, umask: int | None = None) -> subprocess.CompletedProcess:
    """The installed program, as a clerk runs it, from ``cwd``."""
    return subprocess.run([sys.executable, "-m", "qos_xl", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None, timeout=300)


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for a folder)."""
    return {p.relative_to(folder).as_posix(): (None if p.is_dir() else p.read_bytes()) for p in sorted(folder.rglob("*"))}


def test_init_makes_a_workspace_and_says_what_it_made(tmp_path):
    run = qos("init", "年度 工作區", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    ws = tmp_path / "年度 工作區"
    assert sorted(tree(ws)) == ["outputs", "workbooks", "workbooks/config", *(f"workbooks/config/{n}" for n in CONFIG_FILES),
                                "workbooks/inbox", "workbooks/templates", "說明.txt"]
    for name in CONFIG_FILES:   # the clerk's editable copies of the bundled plan and registry
        assert (ws / "workbooks" / "config" / name).read_bytes() == (bundled_config() / name).read_bytes()
    assert f"已建立 qos-xl 工作區：{ws}" in run.stdout
    for line in ("  workbooks/config/（計畫、設定與單位名冊，可用 Excel 編輯）", "  workbooks/inbox/", "  outputs/",
                 "  說明.txt（下一步怎麼做）", "下一步：進入 年度 工作區 資料夾，執行 qos-xl templates（產生各單位範本）。"):
        assert line in run.stdout.splitlines() or line in run.stdout
    guide = (ws / "說明.txt").read_bytes()
    assert guide.startswith(b"\xef\xbb\xbf") and b"\r\n" in guide and b"\n" not in guide.replace(b"\r\n", b"")
    text = guide.decode("utf-8-sig")
    for step in ("qos-xl templates", "workbooks/inbox/", "qos-xl validate", "qos-xl merge", "qos-xl status", "CSV UTF-8"):
        assert step in text


def test_init_demo_fills_the_inbox_and_the_current_folder_is_the_default(tmp_path):
    run = qos("init", "--demo", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["demo_files"] == 32 and data["made"][-1] == "workbooks/config"
    assert data["workspace"] == str(tmp_path)
    assert tree(tmp_path / "workbooks" / "inbox") == tree(DEMO_INBOX)


def test_init_refuses_a_folder_that_has_a_config_and_changes_nothing(tmp_path):
    assert qos("init", "ws", cwd=tmp_path).returncode == 0
    plan = tmp_path / "ws" / "workbooks" / "config" / "plan.csv"
    plan.write_text("項次,實施要項,執行重點,執行步驟,查核期限\n", encoding="utf-8")   # the clerk's edits
    before = tree(tmp_path)
    for args in (["init", "ws"], ["init", "ws", "--demo"]):
        run = qos(*args, cwd=tmp_path)
        assert run.returncode == 2
        assert run.stderr == ("錯誤：ws 已經是 qos-xl 工作區（已有 workbooks/config/），為免覆寫其中的計畫與名冊，"
                              "沒有做任何變更。要重新開始請另選一個資料夾。\n")
        assert tree(tmp_path) == before
    here = qos("init", cwd=tmp_path / "ws")           # "." is named by its full path, not as "."
    assert here.returncode == 2 and here.stderr.startswith(f"錯誤：{tmp_path / 'ws'} 已經是 qos-xl 工作區（")


def test_init_into_a_file_or_through_a_file_is_refused(tmp_path):
    (tmp_path / "名冊.xlsx").write_bytes(b"not a folder")
    before = tree(tmp_path)
    run = qos("init", "名冊.xlsx", cwd=tmp_path)
    assert run.returncode == 2 and "錯誤：名冊.xlsx 是一個檔案，不是資料夾，沒有做任何變更。" in run.stderr
    run = qos("init", "名冊.xlsx/ws", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith("錯誤：無法在 名冊.xlsx/ws 建立工作區：路徑中有一段是檔案而不是資料夾")
    assert "沒有留下任何檔案" in run.stderr and "Traceback" not in run.stderr
    assert tree(tmp_path) == before


def test_init_demo_refuses_an_inbox_with_files(tmp_path):
    inbox = tmp_path / "workbooks" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "養工處.xlsx").write_bytes(b"a real submission")
    before = tree(tmp_path)
    run = qos("init", "--demo", cwd=tmp_path)
    assert run.returncode == 2 and "已有檔案，放入示範檔案會與真實收件混在一起" in run.stderr
    assert tree(tmp_path) == before
    assert qos("init", cwd=tmp_path).returncode == 0          # without --demo the inbox is kept as it is
    assert (inbox / "養工處.xlsx").read_bytes() == b"a real submission"


@pytest.mark.parametrize("failing_write", [1, 5, 19, 21])
def test_a_failure_half_way_leaves_nothing_behind(tmp_path, monkeypatch, failing_write):
    """The disk fills up or permission is lost at the n-th file: everything made so far is removed again."""
    writes = []

    def write(target, content):
        writes.append(target)
        if len(writes) == failing_write:
            raise PermissionError(13, "Permission denied", str(target))
        return real(target, content)

    real = made_here.write_bytes_atomic
    monkeypatch.setattr(made_here, "write_bytes_atomic", write)
    (tmp_path / "already here.txt").write_text("kept", encoding="utf-8")
    before = tree(tmp_path)
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "新 工作區"), "--demo"])
    assert result.exit_code == 2
    assert "錯誤：無法在" in result.output and "沒有寫入「" in result.output and "沒有留下任何檔案" in result.output
    assert tree(tmp_path) == before
    writes.clear()
    result = CliRunner().invoke(cli, ["init", str(tmp_path), "--demo"])   # into an existing folder: it stays as it was
    assert result.exit_code == 2 and tree(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the half-way test covers the refusal")
def test_init_into_an_unwritable_folder(tmp_path):
    locked = tmp_path / "唯讀"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        run = qos("init", "唯讀", cwd=tmp_path)
        assert run.returncode == 2 and f"沒有寫入「{locked}」的權限" in run.stderr
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_commands_find_the_workspace_from_a_sub_folder(tmp_path):
    assert qos("init", "ws", "--demo", cwd=tmp_path).returncode == 0
    ws = tmp_path / "ws"
    deep = ws / "workbooks" / "inbox"
    run = qos("templates", "--unit", "MNT", cwd=deep)   # templates go to the workspace's folder, not under the inbox
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (ws / "workbooks" / "templates").iterdir()) == ["養工處_工作計畫_102.docx", "養工處_工作計畫_102.xlsx",
                                                                                 "養工處_自行檢核表_102-06.xlsx"]
    assert "存放於 ../templates/" in run.stdout
    run = qos("merge", "--json", "--no-feedback", cwd=ws / "workbooks")
    assert run.returncode == 1, run.stderr   # the demo has a rejected file on purpose
    data = json.loads(run.stdout)
    assert data["output"] == "../outputs/102年度提升服務品質彙整_102-12.xlsx"   # the demo year, in December
    assert (ws / "outputs" / "102年度提升服務品質彙整_102-12.xlsx").is_file()
    assert len(data["files"]) == 31
    run = qos("status", cwd=ws / "outputs")
    assert run.returncode == 0 and "養護工程處" in run.stdout


def test_outside_any_workspace_one_zh_line_naming_init(tmp_path):
    for command in (["templates"], ["validate"], ["merge"], ["status"], ["ingest", "."]):
        run = qos(*command, cwd=tmp_path)
        assert run.returncode == 2, command
        assert run.stdout == ""
        assert run.stderr.count("\n") == 1 and "qos-xl init" in run.stderr
        assert run.stderr.startswith("設定錯誤：這裡不在 qos-xl 工作區內（從 ")


def test_config_option_names_the_missing_files(tmp_path):
    partial = tmp_path / "設定"
    partial.mkdir()
    (partial / "plan.csv").write_bytes((CONFIG / "plan.csv").read_bytes())
    result = CliRunner().invoke(cli, ["status", "--config", str(partial)])
    assert result.exit_code == 2
    assert result.output == f"設定錯誤：設定資料夾 {partial} 缺少 settings.csv、units.csv。請把這些檔案放回該資料夾（可從 qos-xl init 建立的新工作區複製）。\n"
    result = CliRunner().invoke(cli, ["status", "--config", str(tmp_path / "沒有")])
    assert result.exit_code == 2 and f"設定資料夾 {tmp_path / '沒有'} 不存在。" in result.output


def test_config_of_another_workspace_brings_its_folders(tmp_path):
    assert qos("init", "ws", "--demo", cwd=tmp_path).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = qos("merge", "--config", tmp_path / "ws" / "workbooks" / "config", "--no-feedback", cwd=elsewhere)
    assert run.returncode == 1, run.stderr
    assert (tmp_path / "ws" / "outputs" / "102年度提升服務品質彙整_102-12.xlsx").is_file()
    assert list(elsewhere.iterdir()) == []


def test_a_broken_plan_in_a_workspace_gives_line_numbered_messages(tmp_path):
    assert qos("init", "ws", cwd=tmp_path).returncode == 0
    plan = tmp_path / "ws" / "workbooks" / "config" / "plan.csv"
    lines = plan.read_text(encoding="utf-8-sig").splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",7月份"
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = qos("templates", cwd=tmp_path / "ws" / "workbooks")
    assert run.returncode == 2
    assert run.stderr.startswith("設定錯誤：") and "plan.csv 第 3 列" in run.stderr and "7月份" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_written_files_follow_the_umask(tmp_path, umask, mode):
    """Managers open the consolidated workbook from a shared folder: files get the mode any program's would."""
    assert qos("init", "ws", "--demo", cwd=tmp_path, umask=umask).returncode == 0
    ws = tmp_path / "ws"
    assert qos("templates", "--unit", "MNT", cwd=ws, umask=umask).returncode == 0
    assert qos("merge", cwd=ws, umask=umask).returncode == 1
    import mail_fixtures

    mail = tmp_path / "mail.eml"
    mail.write_bytes(mail_fixtures.webmail((DEMO_INBOX / "養工處_自行檢核表_1020628.xlsx").read_bytes(), "養工處.xlsx"))
    assert qos("ingest", mail, cwd=ws, umask=umask).returncode in (0, 1)
    written = [*(ws / "workbooks" / "templates").iterdir(), *(ws / "outputs").rglob("*.*"),
               *(ws / "workbooks" / "config").iterdir(), ws / "說明.txt"]
    kinds = {p.parent.name for p in written}
    assert {"templates", "outputs", "feedback", "receipts", "config", "ws"} <= kinds
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in written} == {p.name: oct(mode) for p in written}

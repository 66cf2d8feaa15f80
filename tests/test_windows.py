"""The secretariat's Windows PC, simulated on Linux: legacy output encodings, and file names Windows accepts.

Nothing here runs on Windows itself. Output encodings are simulated with PYTHONIOENCODING
(what a zh-TW Windows PC gives redirected output is cp950); file names are checked against
Windows' own rules, written out here independently of ``core/names.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mail_fixtures
from qos_xl.cli.console import stand_in
from qos_xl.core.names import display_name, safe_filename

from conftest import CONFIG, DEMO_INBOX

# -- Windows' rules for a file name (learn.microsoft.com, "Naming Files, Paths, and Namespaces") -----------------
FORBIDDEN = set('<>:"/\\|?*') | {chr(c) for c in range(32)}
DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in "123456789¹²³"), *(f"LPT{i}" for i in "123456789¹²³")}


def windows_accepts(name: str) -> bool:
    """Whether Windows (NTFS, Explorer, Excel) can create and open a file of this name."""
    return (bool(name) and not set(name) & FORBIDDEN and name[-1] not in ". "
            and name.split(".")[0].rstrip(" ").upper() not in DEVICES
            and len(name.encode("utf-16-le")) // 2 <= 255 and len(name.encode("utf-8")) <= 255)


def all_named(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.is_file()]


# -- safe_filename ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "made"), [
    ("CON.xlsx", "_CON.xlsx"), ("con .xlsx", "_con.xlsx"), ("nul", "_nul"), ("LPT9", "_LPT9"), ("COM1.tar.gz", "_COM1.tar.gz"),
    ("AUX.", "_AUX"), ("報告.xlsx.", "報告.xlsx"), ("養工處. ", "養工處"), ("工程/管理:科", "工程_管理_科"),
    ("a<b>|c?.xlsx", "a_b__c_.xlsx"), ("..\\..\\evil.xlsx", "_.._evil.xlsx"), ("", "檔案"), ("...", "檔案"),
    ("\u202eslx.exe", "_slx.exe"), ("報\udcb3告.xlsx", "報_告.xlsx"), ("CONSOLE.xlsx", "CONSOLE.xlsx"),
])
def test_safe_filename_makes_names_windows_accepts(raw, made):
    assert safe_filename(raw) == made
    assert windows_accepts(made)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=400))
def test_any_text_becomes_a_name_windows_accepts(raw):
    name = safe_filename(raw)
    assert windows_accepts(name), name
    assert safe_filename(name) == name                     # stable: a made name is made again unchanged
    assert len(name.encode("utf-8")) <= 180                # room left for the suffixes callers add


def test_names_from_a_big5_file_system_are_shown_as_big5():
    big5 = os.fsdecode("報告".encode("cp950") + b".xlsx")    # how Linux lists a Big5 name
    assert display_name(big5) == "報告.xlsx"
    assert display_name("子資料夾/" + big5) == "子資料夾/報告.xlsx"
    assert display_name(os.fsdecode(b"\xff\xfe.xlsx")) == "\ufffd\ufffd.xlsx"   # not Big5 either: replaced
    assert display_name("養工處.xlsx") == "養工處.xlsx"


# -- every name qos-xl makes -------------------------------------------------------------------------------

HOSTILE_UNITS = {"MGT": "工程/管理:科", "SEC": "CON", "PER": "人事室. ", "ACC": 'a<b>"c|d?*', "MNT": "養工\\處"}


def hostile_config(tmp_path: Path) -> Path:
    """The bureau's config with unit short names Windows would refuse as file names."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    lines = (config / "units.csv").read_text(encoding="utf-8-sig").splitlines()
    for i, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] in HOSTILE_UNITS:
            cells[2] = HOSTILE_UNITS[cells[0]]
            lines[i] = ",".join(cells)
    (config / "units.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def qos(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qos_xl", *map(str, args)], cwd=cwd, capture_output=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_templates_for_hostile_unit_names_in_a_chinese_folder_with_spaces(tmp_path):
    out = tmp_path / "秘書室 共用" / "範本 102 年"
    run = qos("templates", "--config", hostile_config(tmp_path), "--out", out, cwd=tmp_path)
    assert run.returncode == 0, run.stderr.decode()
    names = all_named(out)
    assert len(names) == 30 and all(map(windows_accepts, names)), names      # per unit: two workbooks and the Word work plan
    for made in ("工程_管理_科_自行檢核表_102-06.xlsx", "_CON_自行檢核表_102-06.xlsx", "人事室_工作計畫_102.xlsx",
                 "a_b__c_d___自行檢核表_102-06.xlsx", "養工_處_工作計畫_102.xlsx", "_CON_工作計畫_102.docx"):
        assert made in names


def test_saved_attachments_and_receipts_for_hostile_names(tmp_path):
    payloads = sorted(DEMO_INBOX.glob("*.xlsx"))
    mails = []
    for number, name in enumerate(["CON.xlsx", "報告.xlsx.", "a<b>|c?.xlsx", "aux", "..\\..\\公文.xlsx"]):
        mail = tmp_path / "郵件 匯出" / f"{number}.eml"
        mail.parent.mkdir(exist_ok=True)
        mail.write_bytes(mail_fixtures.webmail(payloads[number].read_bytes(), name, message_id=f"<m{number}@mnt>"))
        mails.append(mail)
    inbox, receipts = tmp_path / "收件 匣", tmp_path / "輸出 資料夾" / "回覆 文字"
    run = qos("ingest", "--config", hostile_config(tmp_path), "--inbox", inbox, "--receipts", receipts, "--json", *mails,
              cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr.decode()
    data = json.loads(run.stdout)
    saved = [a["saved_as"] for m in data["messages"] for a in m["attachments"] if a.get("saved_as")]
    assert len(saved) == len(set(saved)) == 5, data
    assert all(map(windows_accepts, all_named(inbox))) and all(map(windows_accepts, all_named(receipts)))
    assert len(all_named(receipts)) == 5
    assert any("養工_處_CON.xlsx" in name for name in saved)      # the unit's hostile short name, then the file's
    assert any(name.endswith("養工_處_報告.xlsx") for name in saved)


def test_feedback_copies_and_the_workbook_for_hostile_inbox_names(tmp_path):
    """Files a Linux share lets units name as Windows would not: their feedback still opens on Windows."""
    inbox = tmp_path / "收件匣"
    inbox.mkdir()
    bad = (DEMO_INBOX / "下水道處_自行檢核表.xlsx").read_bytes()      # has errors, so it gets feedback
    hostile = ["CON.xlsx", "報告.xlsx.", "x:y.xlsx", "a\\b.xlsx", "lpt1 .xlsx", "尾端空白 .xlsx"]
    for name in hostile:
        (inbox / name).write_bytes(bad + name.encode())
    (inbox / os.fsdecode("下水道處".encode("cp950") + b".xlsx")).write_bytes(bad + b"big5")
    out = tmp_path / "主管 資料夾" / "102 年 彙整"
    run = qos("merge", "--config", CONFIG, "--inbox", inbox, "--out", out, "--json", cwd=tmp_path)
    assert run.returncode == 1, run.stderr.decode()
    data = json.loads(run.stdout)
    assert "下水道處.xlsx" in {f["file"] for f in data["files"]}       # the Big5 name shown as Big5
    made = all_named(out)
    assert "102年度提升服務品質彙整_102-06.xlsx" in made
    feedback = all_named(out / "feedback")
    assert len(feedback) == 2 * (len(hostile) + 1)
    assert all(map(windows_accepts, made)), made
    assert {"_CON_問題標註.xlsx", "報告.xlsx_問題清單.xlsx", "x_y_問題標註.xlsx", "_lpt1_回覆.txt", "下水道處_回覆.txt"} <= set(feedback)


# -- output in any encoding ------------------------------------------------------------------------------

ENCODINGS = ["cp950", "cp1252", "ascii"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A demo workspace whose inbox also holds names outside Big5 (simplified characters, an emoji)."""
    root = tmp_path_factory.mktemp("enc")
    assert qos("init", "ws", "--demo", cwd=root).returncode == 0
    inbox = root / "ws" / "workbooks" / "inbox"
    shutil.copy(DEMO_INBOX / "下水道處_自行檢核表.xlsx", inbox / "养护工程处_😀_自行检核表.xlsx")
    return root / "ws"


def decoded(raw: bytes, encoding: str) -> str:
    """What the console shows. Under ASCII click itself writes UTF-8 (it treats ASCII as a misconfiguration)."""
    return raw.decode("utf-8" if encoding == "ascii" else encoding)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("command, code", [
    (["status"], 0), (["merge", "--no-feedback"], 1), (["validate", "--no-feedback"], 1), (["--help"], 0),
    (["templates", "--unit", "MNT"], 0), (["validate", "沒有這個檔案😀.xlsx"], 2), (["merg"], 2),
])
def test_every_command_writes_in_a_legacy_encoding(workspace, encoding, command, code):
    run = qos(*command, cwd=workspace, env={"PYTHONIOENCODING": encoding})
    assert run.returncode == code, run.stderr.decode(errors="replace")
    out, err = decoded(run.stdout, encoding), decoded(run.stderr, encoding)
    assert "Traceback" not in err and "UnicodeEncodeError" not in err
    assert out or err


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_init_and_ingest_write_in_a_legacy_encoding(tmp_path, encoding):
    """The two commands that print ✔ lines about new files: a workspace made, a mail saved (a name outside Big5)."""
    env = {"PYTHONIOENCODING": encoding}
    made = qos("init", "工作區", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr.decode(errors="replace")
    mail = tmp_path / "郵件.eml"
    mail.write_bytes(mail_fixtures.webmail((DEMO_INBOX / "下水道處_自行檢核表.xlsx").read_bytes(), "养护工程处_😀_自行检核表.xlsx"))
    run = qos("ingest", mail, cwd=tmp_path / "工作區", env=env)
    assert run.returncode in (0, 1), run.stderr.decode(errors="replace")     # 1: the file saved has an error
    for raw in (made.stdout, made.stderr, run.stdout, run.stderr):
        text = decoded(raw, encoding)
        assert "Traceback" not in text and "UnicodeEncodeError" not in text
    assert decoded(run.stdout, encoding)
    assert len(list((tmp_path / "工作區" / "workbooks" / "inbox").glob("*.xlsx"))) == 1


def test_cp950_shows_stand_ins_and_the_names_it_can(workspace):
    run = qos("validate", "--no-feedback", cwd=workspace, env={"PYTHONIOENCODING": "cp950"})
    text = run.stdout.decode("cp950")
    assert "√ 下水道處_自行檢核表.xlsx" not in text and "× 下水道處_自行檢核表.xlsx　退回" in text
    assert "√ 人事室_工作計畫.xlsx　接受" in text
    assert "× ??工程?_?_自行?核表.xlsx　退回" in text        # what Big5 lacks is a question mark, not a crash
    raw = qos("status", cwd=workspace, env={"PYTHONIOENCODING": "cp950"}).stdout
    status = raw.decode("cp950")
    assert "√ 已接受" in status and "－ 未繳交" in status
    # Notepad draws a Big5 character two columns wide, the stand-in √ too: the columns line up in bytes
    table = raw.split(b"\r\n" if b"\r\n" in raw else b"\n")[1:]
    table = table[:table.index(b"")]
    starts = {tuple(i for i in range(2, len(line)) if line[i - 2:i] == b"  " and line[i:i + 1] != b" ") for line in table}
    assert len(table) > 5 and len(starts) == 1, starts


def test_cp1252_and_redirected_output_to_a_file(workspace, tmp_path):
    target = tmp_path / "狀況.txt"
    with target.open("wb") as handle:   # qos-xl status > 狀況.txt
        run = subprocess.run([sys.executable, "-m", "qos_xl", "status"], cwd=workspace, stdout=handle, stderr=subprocess.PIPE,
                             env={**os.environ, "PYTHONIOENCODING": "cp1252"}, timeout=300)
    assert run.returncode == 0 and run.stderr == b""
    text = target.read_bytes().decode("cp1252")
    assert "v ???" in text and "- ???" in text          # ✔ and — as letters; the Chinese the encoding lacks as ?


@pytest.mark.parametrize("encoding", ["cp950", "cp1252"])
def test_json_stays_exact_in_any_encoding(workspace, encoding):
    plain = qos("merge", "--json", "--no-feedback", cwd=workspace, env={"PYTHONIOENCODING": "utf-8"})
    legacy = qos("merge", "--json", "--no-feedback", cwd=workspace, env={"PYTHONIOENCODING": encoding})
    assert legacy.stdout.isascii()
    made_at = {"made_at": None}
    assert {**json.loads(legacy.stdout), **made_at} == {**json.loads(plain.stdout), **made_at}
    assert "养护工程处_😀_自行检核表.xlsx" in {f["file"] for f in json.loads(legacy.stdout)["files"]}


@pytest.mark.parametrize(("char", "encoding", "shown"), [
    ("✔", "cp950", "√"), ("✘", "cp950", "×"), ("·", "cp950", "‧"), ("—", "cp950", "－"), ("✔", "cp1252", "v"),
    ("✘", "ascii", "x"), ("（", "cp1252", "("), ("　", "cp1252", " "), ("养", "cp950", "?"), ("😀", "cp950", "?"),
    ("\udcb3", "utf-8", "?"),
])
def test_stand_ins(char, encoding, shown):
    assert stand_in(char, encoding) == shown


def test_units_whose_file_names_would_be_the_same_on_windows_are_a_config_error(tmp_path):
    """A:B and A/B, or ABC and abc, would make one template file on Windows: the registry says so by line."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    units = (config / "units.csv").read_text(encoding="utf-8-sig").splitlines()
    units += ["XA,甲單位,工程/管理,,一級單位,", "XB,乙單位,工程:管理,,一級單位,", "XC,丙單位,abc,,一級單位,",
              "XD,丁單位,ABC,,一級單位,"]
    (config / "units.csv").write_text("\n".join(units) + "\n", encoding="utf-8")
    run = qos("templates", "--config", config, cwd=tmp_path)
    assert run.returncode == 2
    lines = run.stderr.decode().splitlines()
    assert lines == [
        f"設定錯誤：{config / 'units.csv'} 第 13 列：簡稱「工程:管理」做成檔名後與 XA 的相同（都是「工程_管理」）："
        "Windows 的檔名不分大小寫，也不能含 \\ / : * ? \" < > | 等字元。請改用可區分的簡稱。",
        f"設定錯誤：{config / 'units.csv'} 第 15 列：簡稱「ABC」做成檔名後與 XC 的相同（都是「ABC」）："
        "Windows 的檔名不分大小寫，也不能含 \\ / : * ? \" < > | 等字元。請改用可區分的簡稱。",
    ]

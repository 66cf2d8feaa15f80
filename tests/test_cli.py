"""The command line as a clerk uses it: exit codes, messages, --json equal to the library's result."""

from __future__ import annotations

import ast
import gettext
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from qos_xl.cli import cli, zh
from qos_xl.core.text import display_width

from conftest import CONFIG, REPO


def invoke(*args):
    return CliRunner().invoke(cli, ["--help"] if not args else list(args), catch_exceptions=False)


def test_version_and_help():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output == "qos-xl 版本 0.1.0\n"
    result = invoke("--help")
    section = result.output.split("指令:\n")[1].split("\n\n")[0]
    listed = [line.split()[0] for line in section.splitlines() if not line.startswith("   ")]
    assert listed == ["init", "templates", "ingest", "validate", "merge", "status"]   # the order of the year's work


def test_help_does_not_import_heavy_modules():
    code = "import sys; from qos_xl.cli import cli; print(sorted(m for m in ('pandas', 'pandera', 'xlsxwriter', 'openpyxl') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_validating_a_clean_file_loads_no_workbook_writer(tmp_path, plan, registry):
    """Start-up is most of validating one file: a clean file needs neither openpyxl nor xlsxwriter."""
    import builders

    good = builders.selfcheck(tmp_path / "in", plan, registry, unit="MNT", name="養工處.xlsx")
    code = ("import sys; from qos_xl.cli import main; sys.argv = ['qos-xl', 'validate', '--config', sys.argv[1], "
            "'--out', sys.argv[2], sys.argv[3]]\n"
            "try:\n    main()\nexcept SystemExit as done:\n"
            "    print(done.code, sorted(m for m in ('openpyxl', 'xlsxwriter') if sys.modules.get(m)),\n"
            "          __import__('gc').isenabled())")
    run = subprocess.run([sys.executable, "-c", code, str(CONFIG), str(tmp_path / "out"), str(good)],
                         capture_output=True, text=True, check=True)
    # nor the cyclic garbage collector (process.py: the one process setting kept)
    assert run.stdout.splitlines()[-1] == "0 [] False"
    assert "✔ 養工處.xlsx　接受" in run.stdout


def test_program_exit_codes_and_output(tmp_path):
    run = subprocess.run([sys.executable, "-m", "qos_xl", "validate", "--config", str(CONFIG), str(tmp_path / "沒有這個檔案.xlsx")],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "沒有這個檔案.xlsx" in run.stderr
    empty = tmp_path / "收件匣"
    empty.mkdir()
    run = subprocess.run([sys.executable, "-m", "qos_xl", "validate", "--config", str(CONFIG), "--json", str(empty)],
                         capture_output=True, text=True)
    assert run.returncode == 0 and json.loads(run.stdout) == {"valid": True, "files": [], "feedback": []}


def test_templates_command(tmp_path):
    result = invoke("templates", "--config", str(CONFIG), "--out", str(tmp_path), "--period", "102-06")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 30                                   # per unit: self-check, work plan, work plan in Word
    assert {"養工處_自行檢核表_102-06.xlsx", "養工處_工作計畫_102.xlsx", "養工處_工作計畫_102.docx"} <= set(names)
    assert "已產生 30 個範本（102-06 期）" in result.output


def test_templates_one_unit_json(tmp_path):
    result = invoke("templates", "--config", str(CONFIG), "--out", str(tmp_path), "--unit", "SEW", "--period", "102-12", "--json")
    data = json.loads(result.output)
    assert result.exit_code == 0
    assert data["period"] == "102-12"
    assert sorted(p.split("/")[-1] for p in data["files"]) == ["下水道處_工作計畫_102.docx", "下水道處_工作計畫_102.xlsx",
                                                                         "下水道處_自行檢核表_102-12.xlsx"]


def test_unknown_unit_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["templates", "--config", str(CONFIG), "--out", str(tmp_path), "--unit", "XYZ"])
    assert result.exit_code == 2
    assert "單位名冊中沒有「XYZ」" in result.output


def test_broken_config_exits_2_with_zh_message(tmp_path):
    (tmp_path / "settings.csv").write_text("項目,內容\n計畫年度,一百零二\n", encoding="utf-8")
    (tmp_path / "plan.csv").write_text("項次,實施要項,執行重點,執行步驟,查核期限\n1-1-1,甲,乙,丙,4月\n", encoding="utf-8")
    (tmp_path / "units.csv").write_text((CONFIG / "units.csv").read_text(encoding="utf-8-sig"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["templates", "--config", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "設定錯誤" in result.output and "計畫年度" in result.output
    assert "Traceback" not in result.output


def test_validate_command_verdicts_and_exit_codes(tmp_path, plan, registry):
    import builders

    good = builders.selfcheck(tmp_path / "in", plan, registry, unit="MNT", name="養工處.xlsx")
    bad = builders.selfcheck(tmp_path / "in", plan, registry, unit="SEW", name="下水道處.xlsx",
                             edit=lambda ws: ws.__setitem__("F12", "做完了"))
    out = tmp_path / "out"
    ok = CliRunner().invoke(cli, ["validate", "--config", str(CONFIG), "--out", str(out), str(good)])
    assert ok.exit_code == 0
    assert "✔ 養工處.xlsx　接受（養護工程處，自行檢核表，102-06）" in ok.output
    result = CliRunner().invoke(cli, ["validate", "--config", str(CONFIG), "--out", str(out), str(good), str(bad)])
    assert result.exit_code == 1
    assert "✘ 下水道處.xlsx　退回：1 個錯誤（下水道工程處，自行檢核表，102-06）" in result.output
    step = plan.steps[12 - builders.FIRST_ROW].code
    assert f"錯誤 「自行檢核表」F12 [status-not-allowed] 項次 {step} 的執行狀態須為 已完成/辦理中/未辦理/不適用" in result.output
    assert "（填寫內容：「做完了」）" in result.output
    assert (out / "feedback" / "下水道處_問題標註.xlsx").exists() and (out / "feedback" / "下水道處_回覆.txt").exists()
    data = json.loads(CliRunner().invoke(cli, ["validate", "--config", str(CONFIG), "--no-feedback", "--json", str(bad)]).output)
    assert data["valid"] is False
    [problem] = data["files"][0]["problems"]
    assert problem == {"severity": "error", "code": "status-not-allowed", "file": "下水道處.xlsx", "sheet": "自行檢核表",
                       "cell": "F12", "value": "做完了", "step": step,
                       "message": f"項次 {step} 的執行狀態須為 已完成/辦理中/未辦理/不適用，請從下拉選單選擇。"}


# -- the command line in zh-TW ----------------------------------------------------------------------

ENGLISH = re.compile(r"\b(Usage|Options|Commands|Show|default|Error|Try|Missing|Invalid|No such|Did you mean|"
                     r"does not exist|Got unexpected|requires an argument|Aborted)\b")


def program(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "qos_xl", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "COLUMNS": "80", "LANGUAGE": "en_US", "LANG": "C.UTF-8"})


@pytest.mark.parametrize("command", ["", "init", "templates", "ingest", "validate", "merge", "status"])
def test_every_help_page_is_zh_tw_with_an_example(command):
    run = program(*filter(None, [command]), "--help")
    assert run.returncode == 0 and run.stderr == ""
    assert not ENGLISH.search(run.stdout), ENGLISH.search(run.stdout)
    assert run.stdout.startswith(f"用法： qos-xl {command + ' ' if command else ''}[選項]")
    assert "選項:\n" in run.stdout and "顯示這份說明後結束。" in run.stdout
    example = run.stdout.split("範例：\n")[1].splitlines()
    assert example and all(line.startswith("    qos-xl ") for line in example)
    for line in run.stdout.splitlines():   # laid out in terminal columns: nothing runs past 80
        assert display_width(line) <= 80, line


def test_defaults_are_shown_in_zh_tw():
    text = program("merge", "--help").stdout
    assert "（預設產生；--no-feedback 則不產生）" in re.sub(r"\n +", "", text)   # however it wrapped
    assert "預設：feedback" not in re.sub(r"\n +", "", text)                   # never click's own English default
    assert "（預設：工作區的 outputs/）" in re.sub(r"\n +", " ", text)


def usage_error(run, *expected: str):
    assert run.returncode == 2, run
    assert run.stdout == ""
    assert not ENGLISH.search(run.stderr), run.stderr
    lines = run.stderr.splitlines()
    for text in expected:
        assert any(text in line for line in lines), (text, run.stderr)
    return lines


def test_a_mistyped_command_answers_in_zh_tw():
    lines = usage_error(program("merg"), "錯誤：沒有「merg」這個指令。 是要輸入 'merge' 嗎？")
    assert lines[0] == "用法： qos-xl [選項] 指令 [引數]..."
    assert lines[1] == "請執行「qos-xl --help」查看說明與範例。"


def test_a_missing_path_answers_in_zh_tw(tmp_path):
    usage_error(program("validate", "--config", str(CONFIG), str(tmp_path / "沒有這個檔案.xlsx")),
                f"錯誤：找不到「{tmp_path / '沒有這個檔案.xlsx'}」。請確認路徑與檔名是否正確（含空格的路徑請加上引號）。",
                "請執行「qos-xl validate --help」查看說明與範例。")


def test_missing_argument_unknown_option_and_extra_arguments_answer_in_zh_tw():
    usage_error(program("ingest"), "錯誤：缺少引數 '郵件...'.")
    usage_error(program("merge", "--outt", "x"), "錯誤：沒有「--outt」這個選項。 是要輸入 '--out' 嗎？")
    usage_error(program("merge", "--out"), "錯誤：選項 --out 後面須接 1 個值。")
    usage_error(program("status", "養工處", "新工處"), "錯誤：多了無法辨識的引數（養工處 新工處）。路徑中有空格時，請用引號把整個路徑括起來。")


def test_the_catalogue_file_is_built_from_the_catalogue():
    spec = importlib.util.spec_from_file_location("click_catalogue", REPO / "scripts" / "click_catalogue.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.mo_path().read_bytes() == script.mo_bytes(zh.CATALOGUE), "run: make click-catalogue"
    with script.mo_path().open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    for msgid, text in zh.CATALOGUE.items():
        if isinstance(msgid, tuple):
            assert translations.ngettext(*msgid, 1) == translations.ngettext(*msgid, 5) == text
        else:
            assert translations.gettext(msgid) == text


def click_msgids() -> set:
    """Every string the installed click marks for translation: _("…") and ngettext("…", "…", n)."""
    found = {"required"}   # get_help_extra's value, looked up as _(extra["required"])
    for source in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
                args = node.args[: 2 if node.func.id == "ngettext" else 1]
                if all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                    found.add(args[0].value if len(args) == 1 else (args[0].value, args[1].value))
    return found


def test_every_string_click_can_show_is_translated():
    missing = click_msgids() - set(zh.CATALOGUE)
    assert not missing, f"click {click.__version__ if hasattr(click, '__version__') else ''} shows strings qos-xl does not translate: {missing}"


@pytest.mark.parametrize("msgid", sorted(zh.CATALOGUE, key=str))
def test_each_translation_formats_with_clicks_own_names(msgid):
    """A translation may only use the placeholders click fills in (else click would raise KeyError)."""
    names = set(re.findall(r"\{(\w+)", " ".join(msgid) if isinstance(msgid, tuple) else msgid))
    used = set(re.findall(r"\{(\w+)", zh.CATALOGUE[msgid]))
    assert used <= names
    assert re.findall(r"%\((\w+)\)s", zh.CATALOGUE[msgid]) == re.findall(r"%\((\w+)\)s", msgid if isinstance(msgid, str) else "")


def test_speaking_zh_tw_leaves_the_process_as_it_was(monkeypatch):
    monkeypatch.setenv("LANGUAGE", "fr")
    before = gettext.textdomain()
    with zh.speaking_zh_tw():
        assert gettext.gettext("Usage:") == "用法："
    assert os.environ["LANGUAGE"] == "fr" and gettext.textdomain() == before and gettext.gettext("Usage:") == "Usage:"


@pytest.mark.parametrize("typed", ["102-6", "102/06", "102年6月", "102-06"])
def test_periods_as_clerks_type_them(tmp_path, typed):
    result = invoke("templates", "--config", str(CONFIG), "--out", str(tmp_path), "--unit", "MNT", "--period", typed)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["養工處_工作計畫_102.docx", "養工處_工作計畫_102.xlsx",
                                                          "養工處_自行檢核表_102-06.xlsx"]


def test_a_month_that_is_no_checkpoint_is_explained():
    lines = usage_error(program("templates", "--config", str(CONFIG), "--period", "102-07"),
                        "錯誤：--period：期別須為 102-06 或 102-12（「102-07」：7 月不是查核月份）")
    assert lines[0] == "用法： qos-xl templates [選項]"
    # August and the year are checkpoints, of forms that have no template of their own: said so, not "no checkpoint"
    usage_error(program("templates", "--config", str(CONFIG), "--period", "102-08"),
                "錯誤：--period：「102-08」：參獎申請書沒有範本（由各單位自行撰寫），範本的期別請寫 102-06 或 102-12。")
    usage_error(program("templates", "--config", str(CONFIG), "--period", "102"),
                "錯誤：--period：「102」：工作計畫範本每次都會與自行檢核表範本一起產生，期別請寫 102-06 或 102-12。")
    usage_error(program("status", "--config", str(CONFIG), "--period", "102-07"),
                "錯誤：--period：期別須為 102、102-06、102-08 或 102-12（「102-07」：7 月不是查核月份）")


def test_merge_prints_counts_in_one_order_and_every_form_the_period_takes_in(tmp_path):
    """June takes in the year's work plans too: their missing units are printed as well; the counts come in the
    contract's order of states whatever the files' order, accepted split by form; the feedback line says for what."""
    from conftest import DEMO_INBOX

    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["merge", "--config", str(CONFIG), "--inbox", str(DEMO_INBOX), "--out", str(out),
                                   "--period", "102-06"])
    lines = run.output.splitlines()
    assert lines[0] == "彙整期別：102-06　共 31 個檔案：接受 15（自行檢核表 8、工作計畫 7）、已被取代 1、重複 1、其他期別 13、退回 1"
    assert "未繳交自行檢核表：工程管理科" in lines and "自行檢核表退回待修正：下水道工程處" in lines
    assert "未繳交工作計畫：會計室、工程管理科、下水道工程處" in lines
    pairs = len(list((out / "feedback").glob("*_回覆.txt")))
    assert pairs and lines[-2] == f"已為 {pairs} 個有錯誤、警告或品質提示的檔案產生標註副本與回覆文字：{out / 'feedback'}/"
    # the repository's settings leave the resend date and the contact blank: the secretariat is told what that costs
    assert lines[-1] == ("提醒：回覆文字中沒有補件期限及聯絡人與電話，因為設定的「補件期限」、「聯絡人」、「聯絡電話」尚未填寫。"
                         f"請在 {CONFIG / 'settings.csv'} 填寫後再執行一次。")


def test_no_reminder_once_the_reply_settings_are_filled(tmp_path):
    from conftest import DEMO_INBOX

    config = tmp_path / "config"
    config.mkdir()
    for name in ("plan.csv", "units.csv"):
        (config / name).write_bytes((CONFIG / name).read_bytes())
    settings = (CONFIG / "settings.csv").read_text(encoding="utf-8-sig")
    settings = settings.replace("補件期限,\n", "補件期限,102/7/10\n").replace("聯絡電話,\n", "聯絡電話,07-3368333#123\n")
    (config / "settings.csv").write_text(settings, encoding="utf-8")
    run = CliRunner().invoke(cli, ["merge", "--config", str(config), "--inbox", str(DEMO_INBOX), "--out", str(tmp_path / "o"),
                                   "--period", "102-06"])
    assert "已為 " in run.output and "提醒：" not in run.output           # a phone without a name is enough to call


def test_the_command_list_cuts_no_description_and_each_period_help_speaks_of_its_own_command():
    listing = program("--help").stdout.split("指令:\n")[1].split("\n\n")[0]
    assert "..." not in listing and "從郵件取出試算表與參獎申請書等附件" in listing
    merge_help = re.sub(r"\n +", "", program("merge", "--help").stdout)
    status_help = re.sub(r"\n +", "", program("status", "--help").stdout)
    assert "預設為收件匣中最新的自行檢核期別" in merge_help and "全年度各期" not in merge_help.split("--period")[1]
    assert "預設列出全年度各期" in status_help and "最新的自行檢核期別" not in status_help


def test_with_json_a_usage_or_config_error_is_a_json_error_on_stdout_too(tmp_path):
    """A program calling qos-xl --json always gets JSON: the zh-TW line on stderr, the same words under "error"."""
    for args, code, line in [
            (["merge", "--config", str(CONFIG), "--period", "102-07", "--json"], "usage",
             "--period：期別須為 102、102-06、102-08 或 102-12（「102-07」：7 月不是查核月份）"),
            (["merge", "--config", str(CONFIG), "--inbox", str(tmp_path / "沒有"), "--json"], "usage",
             f"找不到收件匣資料夾 {tmp_path / '沒有'}。請確認路徑，或以 --inbox 指定。"),
            (["validate", "--config", str(CONFIG), "--json", str(tmp_path / "沒有.xlsx")], "usage",
             f"找不到「{tmp_path / '沒有.xlsx'}」。請確認路徑與檔名是否正確（含空格的路徑請加上引號）。"),
            (["merg", "--json"], "usage", "沒有「merg」這個指令。 是要輸入 'merge' 嗎？")]:
        run = program(*args)
        assert run.returncode == 2, run
        assert json.loads(run.stdout) == {"error": {"code": code, "message": line}}
        assert f"錯誤：{line}" in run.stderr.splitlines()
    broken = tmp_path / "config"
    broken.mkdir()
    for name in ("plan.csv", "settings.csv", "units.csv"):
        (broken / name).write_bytes((CONFIG / name).read_bytes())
    (broken / "settings.csv").write_text("設定,值\n計畫年度,一百零二\n", encoding="utf-8")
    run = program("status", "--config", str(broken), "--json")
    assert run.returncode == 2 and run.stderr.startswith("設定錯誤：")
    error = json.loads(run.stdout)["error"]
    assert error["code"] == "config" and error["message"] == run.stderr.rstrip("\n")

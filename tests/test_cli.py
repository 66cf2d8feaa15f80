"""The command line as a clerk uses it: exit codes, messages, --json equal to the library's result."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from qos_xl.cli import cli

from conftest import CONFIG


def invoke(*args):
    return CliRunner().invoke(cli, ["--help"] if not args else list(args), catch_exceptions=False)


def test_version_and_help():
    result = invoke("--version")
    assert result.exit_code == 0 and "qos-xl, version" in result.output
    result = invoke("--help")
    for command in ("templates", "validate", "merge", "status", "ingest"):
        assert command in result.output


def test_help_does_not_import_heavy_modules():
    code = "import sys; from qos_xl.cli import cli; print(sorted(m for m in ('pandas', 'pandera', 'xlsxwriter', 'openpyxl') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_validating_a_clean_file_loads_no_workbook_writer(tmp_path, plan, registry):
    """Start-up is most of validating one file: a clean file needs neither openpyxl nor xlsxwriter."""
    import builders

    good = builders.selfcheck(tmp_path / "in", plan, registry, unit="MNT", name="養工處.xlsx")
    code = ("import os, sys; from qos_xl.cli import main; sys.argv = ['qos-xl', 'validate', '--config', sys.argv[1], "
            "'--out', sys.argv[2], sys.argv[3]]; real_exit = os._exit\n"
            "def exit(code):\n    print(code, sorted(m for m in ('openpyxl', 'xlsxwriter', 'hypothesis') if sys.modules.get(m)),\n"
            "          [line.split()[1] for line in open('/proc/self/status') if line.startswith('Threads:')],\n"
            "          __import__('gc').isenabled())\n"
            "    sys.stdout.flush(); real_exit(code)\n"
            "os._exit = exit; main()")
    run = subprocess.run([sys.executable, "-c", code, str(CONFIG), str(tmp_path / "out"), str(good)],
                         capture_output=True, text=True, check=True)
    # nor a thread pool of numpy's OpenBLAS, nor the cyclic garbage collector
    assert run.stdout.splitlines()[-1] == "0 [] ['1'] False"
    assert "✔ 養工處.xlsx　接受" in run.stdout


def test_program_exit_codes_and_output_survive_the_fast_exit(tmp_path):
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
    assert len(names) == 20
    assert "養工處_自行檢核表_102-06.xlsx" in names and "養工處_工作計畫_102.xlsx" in names
    assert "已產生 20 個範本（102-06 期）" in result.output


def test_templates_one_unit_json(tmp_path):
    result = invoke("templates", "--config", str(CONFIG), "--out", str(tmp_path), "--unit", "SEW", "--period", "102-12", "--json")
    data = json.loads(result.output)
    assert result.exit_code == 0
    assert data["period"] == "102-12"
    assert sorted(p.split("/")[-1] for p in data["files"]) == ["下水道處_工作計畫_102.xlsx", "下水道處_自行檢核表_102-12.xlsx"]


def test_bad_period_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["templates", "--config", str(CONFIG), "--out", str(tmp_path), "--period", "102/6"])
    assert result.exit_code == 2
    assert "102-06" in result.output


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
    assert "錯誤 「自行檢核表」F12 [status-not-allowed] 執行狀態須為 已完成/辦理中/未辦理/不適用" in result.output
    assert "（填寫內容：「做完了」）" in result.output
    assert (out / "feedback" / "下水道處_問題標註.xlsx").exists() and (out / "feedback" / "下水道處_回覆.txt").exists()
    data = json.loads(CliRunner().invoke(cli, ["validate", "--config", str(CONFIG), "--no-feedback", "--json", str(bad)]).output)
    assert data["valid"] is False
    [problem] = data["files"][0]["problems"]
    assert problem == {"severity": "error", "code": "status-not-allowed", "file": "下水道處.xlsx", "sheet": "自行檢核表",
                       "cell": "F12", "value": "做完了", "message": "執行狀態須為 已完成/辦理中/未辦理/不適用，請從下拉選單選擇。"}

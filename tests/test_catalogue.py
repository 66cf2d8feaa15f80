"""The shipped 102 plan and registry, and how broken data files are reported."""

from __future__ import annotations

import pytest

from qos_xl.core.catalogue import load_plan
from qos_xl.core.config import ConfigError
from qos_xl.core.registry import load_registry

from conftest import CONFIG as REPO_CONFIG


DEADLINES = {  # every step of the 102 plan and its 查核期限 months
    **{code: (6, 12) for code in (
        "1-1-2 1-2-1 1-2-2 1-2-4 1-2-5 1-3-1 1-3-2 1-3-3 1-3-4 1-4-1 1-4-2 1-5-1 1-6-1 "
        "2-1-1 2-2-1 2-2-2 2-3-1 2-3-2 2-4-1 2-4-2 2-4-3 "
        "3-2-1 3-2-2 3-3-1 3-4-1 3-4-2 "
        "4-1-1 4-1-2 4-1-3 4-1-4 4-2-1 4-3-1 4-4-1 4-4-2 4-4-3 4-5-1 "
        "5-1-1 5-1-2 5-1-3 5-1-4 5-2-1 5-3-1 5-3-2 5-4-1 5-4-2").split()},
    "1-1-1": (4,), "1-2-3": (12,), "3-1-1": (6,), "3-5-1": (12,), "3-5-2": (12,),
}


def test_plan_counts(plan):
    assert plan.year == 102
    assert len(plan.areas) == 5
    assert len(plan.focus_points) == 24
    assert len(plan.steps) == 50


def test_every_deadline(plan):
    assert {s.code: s.months for s in plan.steps} == DEADLINES


def test_texts_word_for_word(plan):
    assert [a.label for a in plan.areas] == [
        "一、提升服務品質，深化服務績效", "二、便捷服務程序，確保流程透明", "三、探查民意趨勢，建立顧客關係",
        "四、豐富服務資訊，促進網路溝通", "五、創新服務方式，整合服務資源"]
    first, last = plan.steps[0], plan.steps[-1]
    assert first.focus_label == "（一）訂定機關年度提升服務品質執行(工作)計畫，具體規劃為民服務工作。"
    assert first.text == "依業務特性、顧客需求及年度重點工作，研訂執行(工作)計畫，公佈於機關網站及服務場所。"
    assert plan.step_by_code["1-1-2"].text.startswith("依業務特、年度重點工作")  # the plan's own wording, typo kept
    assert plan.step_by_code["1-2-2"].text.endswith("另申辦動線規劃妥適，符合民眾使用習慣。")
    assert last.text.endswith("或透過公私協力、異業結盟等方式。")
    assert all(" " not in s.text.replace("QR code", "") for s in plan.steps)


def test_due_at_checkpoints(plan):
    assert plan.due_codes(6) == set(DEADLINES) - {"1-2-3", "3-5-1", "3-5-2"}
    assert plan.due_codes(12) == set(DEADLINES)
    assert plan.due_codes(4) == {"1-1-1"}


def write(path, text):
    path.write_text(text, encoding="utf-8-sig")
    return path


def test_broken_plan_reported_by_line(tmp_path):
    settings = write(tmp_path / "settings.csv", "項目,內容\n計畫年度,103\n")
    plan_csv = write(tmp_path / "plan.csv", "項次,實施要項,執行重點,執行步驟,查核期限\n"
                     "1-1-1,甲,重點,步驟一,4月\n"
                     "1-1-x,甲,重點,步驟二,6月\n"
                     "1-1-3,甲,重點,步驟三,7月份\n"
                     "1-1-1,乙,重點,步驟四,6月\n")
    with pytest.raises(ConfigError) as caught:
        load_plan(plan_csv, settings)
    messages = caught.value.messages
    assert any("第 3 列" in m and "1-1-x" in m and "格式錯誤" in m for m in messages)
    assert any("第 4 列" in m and "7月份" in m for m in messages)
    assert any("第 5 列" in m and "名稱與前面的列不一致" in m for m in messages)
    assert any("項次 1-1-1 重複" in m for m in messages)


def test_next_year_plan_is_data(tmp_path):
    settings = write(tmp_path / "settings.csv", "項目,內容\n計畫年度,103\n主辦機關,高雄市政府工務局\n")
    plan_csv = write(tmp_path / "plan.csv", "項次,實施要項,執行重點,執行步驟,查核期限\n1-1-1,甲,重點,步驟一,6月、12月\n2-1-1,乙,重點二,步驟二,12月\n")
    plan = load_plan(plan_csv, settings)
    assert plan.year == 103 and [s.code for s in plan.steps] == ["1-1-1", "2-1-1"]
    assert plan.steps[0].deadline == "6月、12月"


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_plan(tmp_path / "nope.csv", tmp_path / "settings.csv")
    assert "找不到設定檔" in caught.value.messages[0]


def test_registry(registry):
    assert len(registry.units) >= 8
    assert {u.kind for u in registry.units} == {"一級單位", "所屬機關"}
    assert registry.find("養工處").name == "養護工程處"
    assert registry.find(" 高雄市政府工務局養護工程處 ").code == "MNT"
    assert registry.find("ｍｎｔ") is None
    assert registry.find_by_email("Someone@MNT.kcg.gov.tw").code == "MNT"
    assert registry.by_code("sew").name == "下水道工程處"


def test_broken_registry(tmp_path):
    path = write(tmp_path / "units.csv", "代碼,機關全銜,簡稱,別名,類別,電子郵件\n"
                 "A1,甲處,甲,,所屬機關,\n"
                 "A 2,乙處,甲,,三級機關,\n")
    with pytest.raises(ConfigError) as caught:
        load_registry(path)
    text = "\n".join(caught.value.messages)
    assert "第 3 列" in text and "代碼「A 2」" in text and "類別「三級機關」" in text and "已用於 A1" in text


def test_duplicated_unit_code_is_a_line_numbered_error(tmp_path):
    """Two lines with one code would make one unit of two, credited with the other's files."""
    path = write(tmp_path / "units.csv", "代碼,機關全銜,簡稱,別名,類別,電子郵件\n"
                 "MNT,養護工程處,養工處,,所屬機關,mnt@pwb.kcg.gov.tw\n"
                 "NEW,新建工程處,新工處,,所屬機關,\n"
                 "mnt,下水道工程處,下水道處,,所屬機關,\n")
    with pytest.raises(ConfigError) as caught:
        load_registry(path)
    assert caught.value.messages == [f"{path} 第 4 列：代碼「mnt」與第 2 列重複，每個單位的代碼只能出現一次。"]


def test_duplicated_unit_code_exits_2(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from qos_xl.cli.app import cli

    config = tmp_path / "workbooks" / "config"
    config.mkdir(parents=True)
    for name in ("plan.csv", "settings.csv"):
        (config / name).write_bytes((REPO_CONFIG / name).read_bytes())
    units = (REPO_CONFIG / "units.csv").read_text(encoding="utf-8-sig")
    first = units.splitlines()[1]
    write(config / "units.csv", units.rstrip("\n") + "\n" + first.replace("秘書室", "秘書處") + "\n")
    monkeypatch.chdir(tmp_path)   # the workspace: its workbooks/config is found from here
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 2
    assert "代碼「SEC」與第 2 列重複" in result.output


def test_resend_deadline_must_be_a_date(tmp_path):
    settings = (REPO_CONFIG / "settings.csv").read_text(encoding="utf-8-sig").replace("補件期限,", "補件期限,七月十日前")
    write(tmp_path / "settings.csv", settings)
    with pytest.raises(ConfigError) as caught:
        load_plan(REPO_CONFIG / "plan.csv", tmp_path / "settings.csv")
    [message] = caught.value.messages
    assert "「補件期限」的「七月十日前」不是日期" in message and "102/7/10" in message
    assert load_plan(REPO_CONFIG / "plan.csv", REPO_CONFIG / "settings.csv").settings["補件期限"] == ""

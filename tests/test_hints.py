"""Quality hints: each code triggered by what a reviewer would flag and not by what is fine; warnings only.

The first half calls ``pipeline.hints.hints`` on rows made here; the second builds real
self-checks (``builders``), merges and validates them, and reads what the secretariat and the
units get: JSON, reply texts, the mail receipt, the feedback copy and the 品質提示 sheet
(with openpyxl, and as LibreOffice exports it).
"""

from __future__ import annotations

import csv
import json
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

import builders
import mail_fixtures as mf
import office
from builders import step_row
from conftest import CONFIG
from qos_xl.cli import cli
from qos_xl.core.messages import HINT_ADVICE, HINT_NAMES, MESSAGES, QUALITY_HINTS
from qos_xl.core.values import Period
from qos_xl.output.consolidated import write_consolidated
from qos_xl.output.feedback import write_feedback
from qos_xl.output.receipts import write_receipts
from qos_xl.output.reply import Sender, file_reply
from qos_xl.pipeline import hints as H
from qos_xl.pipeline import merge as merging
from qos_xl.pipeline.hints import Source, hints
from qos_xl.pipeline.ingest import ingest
from qos_xl.pipeline.locate import Layout
from qos_xl.pipeline.merge import merge
from qos_xl.pipeline.validate import validate_paths

LAYOUT = Layout("自行檢核表", {"status": "F", "narrative": "G", "evidence": "I"})
SPECIFIC = "5月20日修訂本處櫃台服務流程，並於本處網站及服務台公告周知"
COPIED = "本處於102年5月辦理為民服務教育訓練，共計三十人參訓。"
FORMULA = '=HYPERLINK("http://x.tw","點")'     # within EXCERPT_CHARS: quoted whole


class Row(NamedTuple):
    """One due step of a self-check, as validation gives it to the hints."""

    fid: int
    row: int
    step: str
    status: str | None
    narrative: str
    evidence: str


def table(rows: list[Row]) -> pd.DataFrame:
    """The rows as ``with_hints`` hands them over: indexed by (file id, sheet row), with code, status, narrative, evidence."""
    index = pd.MultiIndex.from_arrays([[r.fid for r in rows], [r.row for r in rows]], names=["fid", "row"])
    return pd.DataFrame({"code": [r.step for r in rows], "status": [r.status for r in rows],
                         "narrative": [r.narrative for r in rows], "evidence": [r.evidence for r in rows]}, index=index)


def source(unit="MNT", name="養護工程處"):
    return Source(unit, name, f"{unit}.xlsx", LAYOUT)


def rows_for(plan, fid=0, *, text=lambda i, step: f"{SPECIFIC}（第{i}項）", status=lambda i, step: "已完成",
             evidence=lambda i, step: "5月10日簽陳"):
    """A Row for every step due in June, at its row in the template."""
    due = [s for s in plan.steps if s.due_at(6)]
    return [Row(fid, step_row(plan, step.code), step.code, status(i, step), text(i, step), evidence(i, step))
            for i, step in enumerate(due)]


def found(rows, sources=None, planned=None, plan=None):
    return hints(table(rows), sources or {0: source()}, plan, planned or {})


def codes(result, fid=0):
    return [p.code for p in result.get(fid, [])]


# ---------------------------------------------------------------------------------------
# The rules, on rows


def test_a_careful_self_check_has_no_hint(plan):
    assert found(rows_for(plan), plan=plan) == {}


@pytest.mark.parametrize("text, short", [
    ("已完成。", True), ("辦理中", True), ("OK", True), ("ＯＫ！！", True), ("已 完 成 ， 。", True),
    ("依計畫辦理", True), ("\u3000已完成\n", True), ("😀😀😀😀😀😀", True), ("=SUM(A1)", True), ("……", True),
    ("已依計畫辦理完成", False), ("修訂服務流程", False), ("=修訂服務流程並公告", False), ("5月6日完成修訂", False),
])
def test_narrative_too_short(plan, text, short):
    """Letters and digits count, once punctuation, spaces and the status word are gone; emoji and symbols do not."""
    rows = rows_for(plan, text=lambda i, step: text if i == 3 else f"{SPECIFIC}（第{i}項）")
    hit = [p for p in found(rows, plan=plan).get(0, []) if p.code == "narrative-too-short"]
    assert bool(hit) == short
    if short:
        (p,) = hit
        assert (p.cell, p.sheet, p.step, p.severity) == (f"G{rows[3].row}", "自行檢核表", rows[3].step, "warning")
        assert p.value == " ".join(text.split())
        assert p.message.startswith(f"項次 {rows[3].step} 的「辦理情形」只寫了「{p.value}」") and "至少需 6 個字" in p.message
        assert p.message.endswith(HINT_ADVICE["narrative-too-short"]) and "例如" in p.message


def test_too_short_only_where_work_is_described(plan):
    """不適用 and 未辦理 steps say why, not what was done: a short text there is no hint."""
    rows = rows_for(plan, text=lambda i, step: "無", status=lambda i, step: ("不適用", "未辦理")[i % 2])
    assert found(rows, plan=plan) == {}


def test_the_same_text_for_five_steps_is_one_hint_naming_them(plan):
    rows = rows_for(plan, text=lambda i, step: "依本處年度計畫確實辦理並持續檢討改進。" if i in (0, 4, 9, 20, 30) else f"{SPECIFIC}（{i}）")
    (p,) = [p for p in found(rows, plan=plan)[0] if p.code == "narrative-repeated"]
    same = [rows[i] for i in (0, 4, 9, 20, 30)]
    assert (p.cell, p.step) == (f"G{same[0].row}", same[0].step)
    assert f"本期應辦理的 {len(rows)} 個項次中，有 5 個（項次 {'、'.join(r.step for r in same)}）" in p.message


def test_a_long_specific_text_used_twice_is_not_repeated(plan):
    rows = rows_for(plan, text=lambda i, step: SPECIFIC if i in (0, 7) else f"{SPECIFIC}（第{i}項）")
    assert found(rows, plan=plan) == {}


def test_more_than_a_third_of_few_due_steps_is_repeated(plan):
    rows = rows_for(plan, text=lambda i, step: "依計畫持續辦理並定期檢討。" if i < 2 else f"{SPECIFIC}（{i}）")
    assert codes(found(rows[:5], plan=plan)) == ["narrative-repeated"]          # 2 of 5 > 1/3
    assert found(rows[:6], plan=plan) == {}                                      # 2 of 6 is not


def test_texts_are_compared_after_normalising(plan):
    """Full-width spaces, line breaks, punctuation, full/half width and case do not make a text different; emoji stay."""
    variants = ["依計畫持續辦理並定期檢討👍", "依計畫\u3000持續辦理並定期檢討👍。", "依計畫持續辦理\n並定期檢討 👍",
                "依計畫持續辦理，並定期檢討👍！！", "  依計畫持續辦理並定期檢討👍\t"]
    assert len({H.normalised(v) for v in variants}) == 1
    assert H.normalised("ＡＢＣ１２３") == H.normalised("abc123") and H.normalised("👍") != H.normalised("👎")
    rows = rows_for(plan, text=lambda i, step: variants[i] if i < 5 else f"{SPECIFIC}（{i}）")
    assert codes(found(rows, plan=plan)) == ["narrative-repeated"]
    other = rows_for(plan, text=lambda i, step: variants[i].replace("👍", "👎") if i == 4 else
                     (variants[i] if i < 5 else f"{SPECIFIC}（{i}）"))
    assert found(other, plan=plan) == {}                                         # four of the same, one different


def test_the_dropped_characters_are_every_punctuation_separator_control_and_format_character():
    everything = [chr(c) for c in range(sys.maxunicode + 1)]
    wanted = {ch for ch in everything if (cat := unicodedata.category(ch))[0] in "PZ" or cat in ("Cc", "Cf")}
    assert H.drop("".join(sorted(wanted))) == ""
    kept = "".join(ch for ch in everything if ch not in wanted)
    assert H.drop(kept) == kept


def test_a_letter_or_digit_never_normalises_away():
    """``blank`` takes a text with a letter or digit as not blank without normalising it: true of every one."""
    assert not [ch for c in range(sys.maxunicode + 1) if (ch := chr(c)).isalnum() and not H.normalised(ch)]
    assert H.blank(" \u3000－…\n") and H.blank("") and not H.blank("簽陳") and not H.blank("①")


def test_text_copied_between_units_names_the_other_units(plan):
    names = {0: ("MNT", "養護工程處"), 1: ("NCE", "新建工程處"), 2: ("SEW", "下水道工程處")}
    rows = [r for fid, (code, _) in names.items()
            for r in rows_for(plan, fid, text=lambda i, step, code=code: COPIED if i == 2 else f"{SPECIFIC}（{code}{i}）")]
    result = found(rows, {fid: source(*names[fid]) for fid in names}, plan=plan)
    for fid, (_, name) in names.items():
        (p,) = result[fid]
        others = "、".join(f"「{n}」" for n in sorted(n for f, (_, n) in names.items() if f != fid))
        assert p.code == "narrative-copied" and p.cell == f"G{rows[2].row}" and p.step == rows[2].step
        assert p.message.startswith(f"項次 {rows[2].step} 的「辦理情形」與{others}同一項次的內容相同") and name not in p.message


def test_short_phrases_other_steps_and_the_same_unit_are_not_copies(plan):
    phrase = "依規定辦理並簽陳核閱"                      # ten characters: under COPY_MIN_CHARS
    assert len(H.normalised(phrase)) == 10 < H.COPY_MIN_CHARS
    units = {0: source("MNT", "養護工程處"), 1: source("NCE", "新建工程處")}

    def two(a, b):
        return [*rows_for(plan, 0, text=lambda i, step: a(i) or f"{SPECIFIC}（A{i}）"),
                *rows_for(plan, 1, text=lambda i, step: b(i) or f"{SPECIFIC}（B{i}）")]

    assert found(two(lambda i: phrase if i == 2 else None, lambda i: phrase if i == 2 else None), units, plan=plan) == {}
    assert found(two(lambda i: f"五月份{phrase}，共三件" if i == 2 else None,             # sharing a phrase only
                     lambda i: f"{phrase}後函送各區公所" if i == 2 else None), units, plan=plan) == {}
    assert found(two(lambda i: COPIED if i == 2 else None, lambda i: COPIED if i == 3 else None), units, plan=plan) == {}
    same_unit = {0: source("MNT", "養護工程處"), 1: source("MNT", "養護工程處")}  # June and a resend, validated together
    assert found(two(lambda i: COPIED if i == 2 else None, lambda i: COPIED if i == 2 else None), same_unit, plan=plan) == {}


def test_done_without_evidence(plan):
    """Blank, white space (full-width too) or punctuation alone is no evidence; only 已完成 steps need it."""
    given = {1: "", 2: " \u3000", 3: "－", 4: "無"}
    rows = rows_for(plan, evidence=lambda i, step: given.get(i, "5月10日簽陳"),
                    status=lambda i, step: "辦理中" if i == 5 else "已完成")
    rows[5] = rows[5]._replace(evidence="")
    hit = [p for p in found(rows, plan=plan)[0] if p.code == "evidence-missing"]
    assert [(p.cell, p.step, p.value) for p in hit] == [(f"I{rows[i].row}", rows[i].step, v) for i, v in
                                                        ((1, None), (2, None), (3, "－"))]
    assert hit[0].message.startswith(f"項次 {rows[1].step} 為「已完成」，但「佐證資料」沒有填寫可查證的內容。請填寫")


def test_plan_area_marked_not_applicable(plan):
    area2 = [s.code for s in plan.steps if s.area == 2 and s.due_at(6)]
    rows = rows_for(plan, status=lambda i, step: "不適用" if step.area == 2 else "已完成",
                    text=lambda i, step: "本處無此項業務。" if step.area == 2 else f"{SPECIFIC}（{i}）")
    assert found(rows, planned={"MNT": {1, 3}}, plan=plan) == {}                 # the plan lists no work in area 2
    assert found(rows, planned={"NCE": {2}}, plan=plan) == {}                    # another unit's plan
    (p,) = found(rows, planned={"MNT": {1, 2}}, plan=plan)[0]
    first = next(r for r in rows if r.step == area2[0])
    assert (p.code, p.cell, p.step) == ("plan-area-not-applicable", f"F{first.row}", area2[0])
    assert (f"工作計畫在「{plan.areas[1].label}」列有工作項目，但本表此實施要項本期應辦理的 {len(area2)} 個項次"
            f"（項次 {area2[0]} 至 {area2[-1]}）全部填「不適用」") in p.message
    one = rows_for(plan, status=lambda i, step: "已完成" if step.area != 2 or step.code != area2[0] else "不適用")
    assert found(one, planned={"MNT": {2}}, plan=plan) == {}                     # one step of it done: no hint


def test_every_hint_is_a_warning_with_a_name_and_advice():
    assert QUALITY_HINTS == set(HINT_NAMES) == set(HINT_ADVICE) == {
        "narrative-too-short", "narrative-repeated", "narrative-copied", "evidence-missing", "plan-area-not-applicable"}
    assert all(MESSAGES[code][0] == "warning" and MESSAGES[code][1].endswith(HINT_ADVICE[code]) for code in QUALITY_HINTS)
    assert all("{" not in advice for advice in HINT_ADVICE.values())              # the 品質提示 sheet strips it exactly


def test_copies_across_thousands_of_units_are_grouped_not_compared_pairwise(plan):
    """5,000 units sharing one text: each unit's hint names five others and the count; the time grows linearly."""
    step = next(s for s in plan.steps if s.due_at(6))

    def run(n):
        rows = [Row(u, 8, step.code, "已完成", COPIED, "簽陳") for u in range(n)]
        sources = {u: Source(f"U{u:04d}", f"單位{u:04d}", f"{u}.xlsx", LAYOUT) for u in range(n)}
        rows = table(rows)
        started = time.perf_counter()
        result = hints(rows, sources, plan, {})
        return result, time.perf_counter() - started

    result, _ = run(5000)
    assert all(codes(result, u) == ["narrative-copied"] for u in range(5000))
    assert "與「單位0001」、「單位0002」、「單位0003」、「單位0004」、「單位0005」等 4999 個單位同一項次" in result[0][0].message
    assert "與「單位0000」、「單位0001」、「單位0002」、「單位0003」、「單位0004」等 4999 個單位" in result[4999][0].message
    small = min(run(1000)[1] for _ in range(3))
    large = min(run(4000)[1] for _ in range(3))
    assert large < 8 * small, (small, large)          # 4x the units: ~4x the time (pairwise would be 16x)


# ---------------------------------------------------------------------------------------
# Real files: merge, validate, JSON, replies, the mail receipt, the feedback copy, the workbook


def due(plan) -> list[str]:
    return [s.code for s in plan.steps if s.due_at(6)]


def put(ws, ref: str, value) -> None:
    """A cell typed as text (a leading = stays text, as Excel stores an entry typed with an apostrophe)."""
    cell = ws[ref]
    cell.value = value
    if value is not None:
        cell.data_type = "s"


def edits(**cells):
    return lambda ws: [put(ws, ref, value) for ref, value in cells.items()]


VARIANTS = ["依計畫持續辦理並定期檢討👍", "依計畫\u3000持續辦理並定期檢討👍。", "依計畫持續辦理\n並定期檢討 👍",
            "依計畫持續辦理，並定期檢討👍！！", "  依計畫持續辦理並定期檢討👍"]


@pytest.fixture(scope="module")
def inbox(tmp_path_factory, plan, registry):
    """MNT careful (and an older boilerplate version it superseded), NCE with short texts, missing evidence and
    a formula-looking text repeated, SEW and BLD sharing a long text (and only a 10-character phrase elsewhere),
    SEW repeating a text typed five ways, PER repeating a long specific text only twice, SEC contradicting its
    work plan in area 5, ACC with area 5 不適用 and no work plan, ETH rejected however boilerplate it is."""
    inbox = tmp_path_factory.mktemp("hints") / "inbox"
    d = due(plan)
    def g(code, col):
        return f"{col}{step_row(plan, code)}"

    boiler = {g(code, "G"): "已完成。" for code in d}
    builders.selfcheck(inbox, plan, registry, unit="MNT", name="養工處_0620.xlsx", report_date="102/6/20", edit=edits(**boiler))
    builders.selfcheck(inbox, plan, registry, unit="MNT", name="養工處_0628.xlsx", report_date="102/6/28")
    builders.selfcheck(inbox, plan, registry, unit="NCE", edit=edits(**{
        g(d[0], "G"): "已完成。", g(d[1], "I"): None, g(d[7], "G"): "👍👍👍👍👍👍", g(d[8], "I"): " \u3000", g(d[9], "I"): "－",
        **{g(code, "G"): FORMULA for code in d[2:7]}}))
    builders.selfcheck(inbox, plan, registry, unit="SEW", edit=edits(**{
        g(d[10], "G"): COPIED, g(d[11], "G"): "依規定辦理並簽陳核閱", g(d[12], "G"): "五月份依規定辦理並簽陳核閱，共三件",
        **{g(code, "G"): v for code, v in zip(d[20:25], VARIANTS)}}))
    builders.selfcheck(inbox, plan, registry, unit="BLD", edit=edits(**{
        g(d[10], "G"): COPIED, g(d[11], "G"): "依規定辦理並簽陳核閱", g(d[12], "G"): "依規定辦理並簽陳核閱後函送各區公所"}))
    builders.selfcheck(inbox, plan, registry, unit="PER", edit=edits(**{g(d[3], "G"): SPECIFIC, g(d[30], "G"): SPECIFIC}))
    area5 = [s.code for s in plan.steps if s.area == 5 and s.due_at(6)]
    not_applicable = {ref: value for code in area5 for ref, value in (
        (g(code, "F"), "不適用"), (g(code, "G"), "本處無此項業務，由秘書室統籌。"), (g(code, "H"), None), (g(code, "I"), None))}
    builders.workplan(inbox, plan, registry, unit="SEC")
    builders.selfcheck(inbox, plan, registry, unit="SEC", edit=edits(**not_applicable))
    builders.selfcheck(inbox, plan, registry, unit="ACC", edit=edits(**not_applicable))
    builders.selfcheck(inbox, plan, registry, unit="ETH", edit=edits(**boiler, **{g(d[0], "F"): "做完了"}))
    return inbox


@pytest.fixture(scope="module")
def merged(inbox, plan, registry):
    return merge(inbox, plan, registry, Period(102, 6), jobs=1)


def by_unit(files, state="accepted"):
    return {f.unit_code: f for f in files if f.state == state and f.form == "selfcheck"}


def hint_list(report):
    return [(p.code, p.cell, p.step) for p in report.hints]


def test_merge_hints_each_code_at_its_cell(merged, plan):
    d, row = due(plan), (lambda code: step_row(plan, code))
    files = by_unit(merged.files)
    assert set(files) == {"MNT", "NCE", "SEW", "BLD", "PER", "SEC", "ACC"}
    for unit in ("MNT", "PER", "ACC"):
        assert files[unit].problems == (), unit                  # careful, twice only, no plan to contradict
    assert hint_list(files["NCE"]) == [
        ("narrative-too-short", f"G{row(d[0])}", d[0]), ("evidence-missing", f"I{row(d[1])}", d[1]),
        ("narrative-repeated", f"G{row(d[2])}", d[2]), ("narrative-too-short", f"G{row(d[7])}", d[7]),
        ("evidence-missing", f"I{row(d[8])}", d[8]), ("evidence-missing", f"I{row(d[9])}", d[9])]
    repeated = files["NCE"].hints[2]
    assert repeated.value == FORMULA and f"「{FORMULA}」" in repeated.message
    assert hint_list(files["SEW"]) == [("narrative-copied", f"G{row(d[10])}", d[10]), ("narrative-repeated", f"G{row(d[20])}", d[20])]
    assert "與「建築管理處」同一項次的內容相同" in files["SEW"].hints[0].message
    assert hint_list(files["BLD"]) == [("narrative-copied", f"G{row(d[10])}", d[10])]
    assert "與「下水道工程處」同一項次的內容相同" in files["BLD"].hints[0].message
    area5 = [s.code for s in plan.steps if s.area == 5 and s.due_at(6)]
    assert hint_list(files["SEC"]) == [("plan-area-not-applicable", f"F{row(area5[0])}", area5[0])]
    others = {f.file: f for f in merged.files if f.state != "accepted"}
    assert others["養工處_0620.xlsx"].state == "superseded" and not others["養工處_0620.xlsx"].hints
    rejected = by_unit(merged.files, "rejected")["ETH"]
    assert rejected.errors and not rejected.hints


def test_hints_change_no_state_rate_or_other_problem(inbox, plan, registry, merged, monkeypatch):
    """The same inbox merged without the hint stage: every state, rate, row and other problem is the same."""
    monkeypatch.setattr(merging, "with_hints", lambda files, checked, plan: files)
    plain = merge(inbox, plan, registry, Period(102, 6), jobs=1)
    assert not any(f.hints for f in plain.files) and any(f.hints for f in merged.files)
    assert [(f.file, f.state, f.duplicate_of, f.superseded_by) for f in plain.files] == \
        [(f.file, f.state, f.duplicate_of, f.superseded_by) for f in merged.files]
    assert [tuple(p for p in f.problems if not p.is_hint) for f in merged.files] == [f.problems for f in plain.files]
    assert (plain.area_rates, plain.unit_rates, plain.overall) == (merged.area_rates, merged.unit_rates, merged.overall)
    assert (plain.missing_names, plain.returned_names, plain.submission) == \
        (merged.missing_names, merged.returned_names, merged.submission)
    assert plain.selfcheck.equals(merged.selfcheck) and plain.workplan.equals(merged.workplan)


def test_validate_gives_the_merge_hints_comparing_the_files_read_together(inbox, plan, registry, merged):
    checked = validate_paths([inbox], plan, registry, jobs=1)
    mine = {f.file: hint_list(f) for f in checked.files if f.state == "accepted"}
    assert {f.file: hint_list(f) for f in merged.files if f.state == "accepted"}.items() <= mine.items()
    first = due(plan)[0]                          # validated without the newer version, the older one is accepted
    assert sorted(mine["養工處_0620.xlsx"]) == sorted([("narrative-too-short", f"G{step_row(plan, code)}", code)
                                                      for code in due(plan)] + [("narrative-repeated", f"G{step_row(plan, first)}", first)])
    alone = validate_paths([inbox / "下水道處_自行檢核表_102-06.xlsx"], plan, registry, jobs=1).files[0]
    assert [p.code for p in alone.hints] == ["narrative-repeated"]       # no other unit read with it: nothing copied


def test_json_counts_and_lists_hints(inbox, tmp_path):
    run = CliRunner().invoke(cli, ["validate", "--config", str(CONFIG), "--no-feedback", "--json",
                                   str(inbox / "新工處_自行檢核表_102-06.xlsx")])
    data = json.loads(run.output)
    (entry,) = data["files"]
    assert data["valid"] and entry["state"] == "accepted" and entry["errors"] == 0
    assert entry["hints"] == entry["warnings"] == 6
    assert Counter(p["code"] for p in entry["problems"]) == {"narrative-too-short": 2, "evidence-missing": 3,
                                                             "narrative-repeated": 1}
    assert all(p["severity"] == "warning" and p["sheet"] == "自行檢核表" and p["cell"] for p in entry["problems"])


def test_reply_lists_hints_under_their_own_heading(merged):
    report = by_unit(merged.files)["NCE"]
    text = file_reply(report, annotated="x_問題標註.xlsx")
    assert "檢核結果：檢核通過，已收件（另有 6 項品質提示，請參考）" in text
    assert "問題明細" not in text
    heading = text.index("品質提示（不影響收件）（6 項）：")
    lines = text[heading:].splitlines()
    assert lines[2].startswith(f"1. 【品質提示】工作表「自行檢核表」儲存格 {report.hints[0].cell}：項次")
    assert f"填寫內容：「{FORMULA}」" in text
    assert "以上事項不影響收件，本次無須重新寄送" in text[heading:]
    assert not [code for code in MESSAGES if code in text]


def test_reply_with_warnings_and_hints_keeps_them_apart(merged):
    report = by_unit(merged.files)["NCE"]
    report = report.with_problems(report.problem("status-synonym", sheet="自行檢核表", cell="F9", value="完成", step="1-1-2", status="已完成"),
                                  first=True)
    text = file_reply(report)
    assert "（另有 1 項警告、6 項品質提示，請參考）" in text
    assert text.index("問題明細（警告 1 項）：") < text.index("品質提示（不影響收件）（6 項）：")
    section = text[text.index("問題明細"):text.index("品質提示（不影響收件）")]
    assert "【警告】" in section and "【品質提示】" not in section


def test_mail_receipt_lists_hints_the_same_way(inbox, tmp_path, plan, registry):
    mail = tmp_path / "m.eml"
    mail.write_bytes(mf.webmail((inbox / "新工處_自行檢核表_102-06.xlsx").read_bytes(), "新工處_自行檢核表.xlsx",
                                sender="李俊傑 <nce@pwb.kcg.gov.tw>", subject="新工處自行檢核表"))
    result = write_receipts(ingest([mail], tmp_path / "inbox", plan, registry), tmp_path / "receipts",
                            Sender.from_settings(plan.settings))
    (message,) = result.messages
    text = Path(message.receipt).read_text(encoding="utf-8")
    assert "檢核結果：檢核通過，已收件（另有 6 項品質提示，請參考）" in text
    start = text.index("   品質提示（不影響收件）（6 項）：")
    assert text[start:].splitlines()[1].startswith("   (1) 【品質提示】工作表「自行檢核表」儲存格 G")
    assert not [code for code in MESSAGES if code in text]


def test_feedback_copy_lists_hints_as_text(merged, inbox, tmp_path):
    report = by_unit(merged.files)["NCE"]
    written = write_feedback([report], tmp_path / "feedback", [inbox])
    annotated = next(p for p in written if p.name.endswith("_問題標註.xlsx"))
    wb = openpyxl.load_workbook(annotated)
    ws = wb["問題清單"]
    assert "品質提示（不影響收件） 6 項" in ws["A1"].value
    rows = [[c for c in row] for row in ws.iter_rows(min_row=4)]
    assert [r[0].value for r in rows] == ["◇ 品質提示"] * 6
    (formula,) = [r[5] for r in rows if r[5].value == FORMULA]
    assert formula.data_type == "s"                                  # text, never a formula
    sheet = wb["自行檢核表"]
    cell = sheet[report.hints[2].cell]
    assert cell.value == FORMULA and cell.data_type == "s" and "【品質提示】" in cell.comment.text


@pytest.fixture(scope="module")
def workbook(merged, tmp_path_factory):
    return write_consolidated(merged, tmp_path_factory.mktemp("book") / "book.xlsx")


def hint_sheet_rows(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_consolidated_sheet_counts_then_lists_most_hints_first(workbook, merged, plan):
    wb = openpyxl.load_workbook(workbook)
    ws = wb["品質提示"]
    rows = hint_sheet_rows(ws)
    assert rows[0] == ["單位", "項次", "提示", "儲存格", "件數", "內容摘錄", "說明", "代碼"]
    totals = [(r[0], r[4]) for r in rows if r[2] == "合計"]
    assert totals == [("新建工程處", 6), ("下水道工程處", 2), ("秘書室", 1), ("建築管理處", 1)]   # ties in registry order
    block = rows[1:1 + 1 + 3 + 6]
    assert [(r[2], r[7], r[4]) for r in block[1:4]] == [
        ("辦理情形過於簡略", "narrative-too-short", 2), ("辦理情形重複使用", "narrative-repeated", 1),
        ("已完成但無佐證", "evidence-missing", 3)]
    nce = by_unit(merged.files)["NCE"]
    assert [(r[0], r[1], r[7], r[3], r[5]) for r in block[4:]] == [
        ("新建工程處", p.step, p.code, p.cell, p.value) for p in nce.hints]
    assert [r[6] for r in block[4:]] == [H.finding(p) for p in nce.hints]
    assert all(not r[6].endswith(HINT_ADVICE[r[7]]) and r[6] for r in block[4:])
    (formula,) = [row[5] for row in ws.iter_rows() if row[5].value == FORMULA]
    assert formula.data_type == "s"
    assert "narrative-copied" in {r[7] for r in rows} and "plan-area-not-applicable" in {r[7] for r in rows}
    assert rows[-1][0].startswith("品質提示不影響收件及完成率") and "少於 6 個字" in rows[-1][0] and "1/3" in rows[-1][0]
    # on paper: A4 landscape, one page wide, the header on every page
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)   # absent: 1, the default
    assert ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "B2" and ws.auto_filter.ref
    problems = hint_sheet_rows(wb["檢核問題"])
    assert not {r[5] for r in problems} & QUALITY_HINTS and problems[-1][0] == "品質提示（不影響收件）另列於「品質提示」工作表。"
    intake = {r[0]: r for r in hint_sheet_rows(wb["收件紀錄"])}
    assert intake["新工處_自行檢核表_102-06.xlsx"][9] == "有 6 項品質提示，詳見「品質提示」"


def test_consolidated_sheet_as_libreoffice_shows_it(workbook, merged, tmp_path):
    folder = office.convert(workbook, office.CSV_ALL_SHEETS, tmp_path / "csv")
    sheet = next(p for p in folder.glob("*.csv") if "品質提示" in p.name)
    shown = [r for r in csv.reader(sheet.open(encoding="utf-8")) if r]
    nce = by_unit(merged.files)["NCE"]
    lines = [r for r in shown if r[0] == "新建工程處" and r[1]]
    assert [(r[1], r[7], r[3], r[5]) for r in lines] == [(p.step, p.code, p.cell, p.value or "") for p in nce.hints]
    assert any(r[5] == FORMULA for r in lines)                       # shown as typed, not evaluated
    assert ["新建工程處", "", "合計", "", "6"] == shown[1][:5]


def test_consolidated_sheet_prints_in_landscape_pages_with_its_header(workbook, tmp_path):
    pdf = office.convert(workbook, "pdf", tmp_path)
    pages = [p for p in office.pdf_pages(pdf) if "品質提示" in p.splitlines()[0]]
    assert pages and all("單位" in p and "內容摘錄" in p and "代碼" not in p for p in pages)   # the header on every page
    text = "".join(pages)
    assert "辦理情形過於簡略" in text and "narrative-" not in text                             # codes stay off paper


def test_consolidated_sheet_goes_on_in_a_continued_sheet(merged, tmp_path):
    path = write_consolidated(merged, tmp_path / "small.xlsx", max_rows=8)
    wb = openpyxl.load_workbook(path)
    parts = [name for name in wb.sheetnames if name.startswith("品質提示")]
    assert parts[:2] == ["品質提示", "品質提示(2)"]
    rows = [r for name in parts for r in hint_sheet_rows(wb[name])[1:]]
    assert all(hint_sheet_rows(wb[name])[0][0] == "單位" for name in parts)
    assert sum(1 for r in rows if r[1]) == sum(len(f.hints) for f in merged.files)


def test_no_hint_no_list(tmp_path, plan, registry):
    inbox = tmp_path / "inbox"
    builders.selfcheck(inbox, plan, registry, unit="MNT")
    result = merge(inbox, plan, registry, Period(102, 6), jobs=1)
    ws = openpyxl.load_workbook(write_consolidated(result, tmp_path / "b.xlsx"))["品質提示"]
    assert [r[0] for r in hint_sheet_rows(ws)][1] == "（本期已接受的自行檢核表沒有品質提示）"


@pytest.mark.parametrize("period", [Period(102, 6), Period(102, 12)])
def test_the_demo_inbox_shows_every_kind_of_hint(plan, registry, period):
    from conftest import DEMO_INBOX

    result = merge(DEMO_INBOX, plan, registry, period, jobs=1)
    assert {p.code for f in result.files for p in f.hints} == QUALITY_HINTS


def test_validate_prints_hints_apart_from_warnings(inbox):
    run = CliRunner().invoke(cli, ["validate", "--config", str(CONFIG), "--no-feedback", str(inbox / "新工處_自行檢核表_102-06.xlsx")])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert lines[0].endswith("接受，6 項品質提示（新建工程處，自行檢核表，102-06）") and "警告" not in lines[0]
    assert all(line.startswith("    品質提示 「自行檢核表」") for line in lines[1:7])
    assert "[narrative-too-short]" in lines[1] and "（填寫內容：「已完成。」）" in lines[1]

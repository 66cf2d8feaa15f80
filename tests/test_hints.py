"""Quality hints: each code triggered by what a reviewer would flag, and not by what is fine."""

from __future__ import annotations

import pytest

from qos_xl.core.messages import QUALITY_HINTS
from qos_xl.pipeline import hints as H
from qos_xl.pipeline.hints import Row, hints

SPECIFIC = "102年5月20日修訂本處櫃台服務流程，並於本處網站及服務台公告周知。"


def rows_for(plan, unit="MNT", name="養護工程處", fid=0, *, month=6, text=lambda i, step: f"{SPECIFIC}（第{i}項）",
             status=lambda i, step: "已完成", evidence=lambda i, step: "102年5月10日簽陳"):
    made = []
    for i, step in enumerate(s for s in plan.steps if s.due_at(month)):
        made.append(Row(fid, name, unit, step.code, status(i, step), text(i, step), evidence(i, step), "自行檢核表",
                        f"G{8 + i}", f"I{8 + i}", f"{unit}.xlsx"))
    return made


def codes(found, fid=0):
    return [p.code for p in found.get(fid, [])]


def test_a_good_self_check_has_no_hint(plan):
    assert hints(rows_for(plan), plan, {}) == {}


@pytest.mark.parametrize("text, short", [
    ("已完成。", True), ("辦理中", True), ("OK", True), ("ＯＫ！！", True), ("已 完 成 ， 。", True),
    ("依計畫辦理", True), ("\u3000已完成\n", True), ("已依計畫辦理完成", False), ("=SUM(A1)", False),
    ("😀😀😀😀😀😀", False), ("修訂服務流程", False),
])
def test_narrative_too_short(plan, text, short):
    rows = rows_for(plan, text=lambda i, step: text if i == 3 else f"{SPECIFIC}（第{i}項）")
    found = [p for p in hints(rows, plan, {}).get(0, []) if p.code == "narrative-too-short"]
    assert bool(found) == short
    if short:
        (p,) = found
        assert p.cell == "G11" and p.value == text and p.severity == "warning"
        assert f"項次 {rows[3].code}" in p.message and "例如" in p.message and "narrative" not in p.message


def test_too_short_only_for_done_or_in_progress(plan):
    rows = rows_for(plan, text=lambda i, step: "無", status=lambda i, step: "不適用" if i == 0 else "已完成")
    rows = [rows[0]]
    assert hints(rows, plan, {}) == {}


def test_the_same_text_for_five_steps_is_repeated_once(plan):
    rows = rows_for(plan, text=lambda i, step: "依本處年度計畫確實辦理並持續檢討改進。" if i < 5 else f"{SPECIFIC}（第{i}項）")
    found = [p for p in hints(rows, plan, {})[0] if p.code == "narrative-repeated"]
    (p,) = found
    assert p.cell == "G8" and "5 個項次" in p.message
    assert all(r.code in p.message for r in rows[:5])


def test_a_long_specific_text_used_twice_is_not_repeated(plan):
    rows = rows_for(plan, text=lambda i, step: SPECIFIC if i in (0, 7) else f"{SPECIFIC}（第{i}項）")
    assert "narrative-repeated" not in codes(hints(rows, plan, {}))


def test_a_third_of_few_steps_is_repeated(plan):
    rows = rows_for(plan, text=lambda i, step: "依計畫持續辦理並定期檢討。" if i < 2 else f"{SPECIFIC}（第{i}項）")[:5]
    assert codes(hints(rows, plan, {})).count("narrative-repeated") == 1


def test_repetition_is_found_after_normalising_width_space_and_punctuation(plan):
    variants = ["依計畫持續辦理並定期檢討", "依計畫持續辦理並定期檢討。", "依計畫 持續辦理並定期檢討！",
                "依計畫持續辦理\n並定期檢討", "依計畫持續辦理並定期檢討\u3000"]
    rows = rows_for(plan, text=lambda i, step: variants[i] if i < 5 else f"{SPECIFIC}（第{i}項）")
    assert codes(hints(rows, plan, {})).count("narrative-repeated") == 1


def test_text_copied_between_units_names_the_other_units(plan):
    copied = "本處於102年5月辦理為民服務教育訓練，共計三十人參訓。"
    a = rows_for(plan, "MNT", "養護工程處", 0, text=lambda i, step: copied if i == 2 else f"{SPECIFIC}（A{i}）")
    b = rows_for(plan, "NCE", "新建工程處", 1, text=lambda i, step: copied if i == 2 else f"{SPECIFIC}（B{i}）")
    c = rows_for(plan, "SEW", "下水道工程處", 2, text=lambda i, step: copied if i == 2 else f"{SPECIFIC}（C{i}）")
    found = hints(a + b + c, plan, {})
    names = {0: "養護工程處", 1: "新建工程處", 2: "下水道工程處"}
    for fid in names:
        others = "、".join(sorted(n for f, n in names.items() if f != fid))
        (p,) = [p for p in found[fid] if p.code == "narrative-copied"]
        assert p.cell == "G10" and others in p.message


def test_short_shared_phrase_or_another_step_is_not_a_copy(plan):
    phrase = "依規定辦理完竣。"           # under COPY_MIN_CHARS once normalised
    assert len(H.normalised(phrase)) < H.COPY_MIN_CHARS
    a = rows_for(plan, "MNT", "養護工程處", 0, text=lambda i, step: phrase if i == 2 else f"{SPECIFIC}（A{i}）")
    b = rows_for(plan, "NCE", "新建工程處", 1, text=lambda i, step: phrase if i == 2 else f"{SPECIFIC}（B{i}）")
    assert "narrative-copied" not in codes(hints(a + b, plan, {})) + codes(hints(a + b, plan, {}), 1)
    long_text = "本處於102年5月辦理為民服務教育訓練，共計三十人參訓。"
    a = rows_for(plan, "MNT", "養護工程處", 0, text=lambda i, step: long_text if i == 2 else f"{SPECIFIC}（A{i}）")
    b = rows_for(plan, "NCE", "新建工程處", 1, text=lambda i, step: long_text if i == 3 else f"{SPECIFIC}（B{i}）")
    assert "narrative-copied" not in codes(hints(a + b, plan, {}))


def test_done_without_evidence(plan):
    rows = rows_for(plan, evidence=lambda i, step: " \u3000" if i == 1 else "簽陳",
                    status=lambda i, step: "辦理中" if i == 2 else "已完成")
    rows[2] = Row(**{**rows[2].__dict__, "evidence": ""})
    found = [p for p in hints(rows, plan, {})[0] if p.code == "evidence-missing"]
    (p,) = found
    assert p.cell == "I9" and "佐證資料" in p.message


def test_plan_area_marked_not_applicable(plan):
    area2 = {s.code for s in plan.steps if s.area == 2}
    rows = rows_for(plan, status=lambda i, step: "不適用" if step.code in area2 else "已完成",
                    text=lambda i, step: f"本處無此項業務，理由說明第{i}項。" if step.code in area2 else f"{SPECIFIC}（{i}）")
    assert "plan-area-not-applicable" not in codes(hints(rows, plan, {"MNT": {1, 3}}))
    found = [p for p in hints(rows, plan, {"MNT": {1, 2}})[0] if p.code == "plan-area-not-applicable"]
    (p,) = found
    assert plan.areas[1].label in p.message and p.cell == next(r.narrative_cell for r in rows if r.code in area2)


def test_every_hint_is_a_warning_with_a_message(plan):
    assert QUALITY_HINTS == {"narrative-too-short", "narrative-repeated", "narrative-copied", "evidence-missing",
                             "plan-area-not-applicable"}
    from qos_xl.core.messages import MESSAGES

    assert all(MESSAGES[code][0] == "warning" for code in QUALITY_HINTS)


def test_copies_across_many_units_are_grouped_not_compared_pairwise(plan):
    """5,000 units sharing one text for one step: one pass, each unit's hint names the others (bounded)."""
    shared = "本處於102年5月辦理為民服務教育訓練，共計三十人參訓。"
    rows = []
    for u in range(300):
        rows += rows_for(plan, f"U{u:04d}", f"單位{u:04d}", u, text=lambda i, step, u=u: shared if i == 0 else f"{SPECIFIC}{u}-{i}")
    found = hints(rows, plan, {})
    assert all(codes(found, u).count("narrative-copied") == 1 for u in range(300))

"""Every word of the contract (PRODUCT.md) defined once: forms, labels, statuses, states, severities.

Code compares the identifiers (``SELFCHECK``, ``ACCEPTED``, ...); users read the zh-TW names
next to them.  Labels are the exact texts printed in the templates, by which the reader
finds the forms.
"""

from __future__ import annotations

# -- forms -----------------------------------------------------------------------------
SELFCHECK = "selfcheck"
WORKPLAN = "workplan"
AWARD = "award"
FORMS = (WORKPLAN, SELFCHECK, AWARD)
FORM_NAMES = {SELFCHECK: "自行檢核表", WORKPLAN: "工作計畫", AWARD: "參獎申請書"}
# words by which a document's file name (or the subject of the e-mail it came with) says what it is
AWARD_WORDS = ("參獎", "申請書", "服務品質獎")
WORKPLAN_WORDS = ("工作計畫", "工作計劃")

# -- the data sheets and their labels (field name -> label as printed) --------------------
SELFCHECK_SHEET = FORM_NAMES[SELFCHECK]
WORKPLAN_SHEET = FORM_NAMES[WORKPLAN]
HELP_SHEET = "填表說明"
META_SHEET = "qos_meta"
PROBLEM_LIST_SHEET = "問題清單"
MARKS_SHEET = "qos_marks"        # very hidden, in an annotated copy: the cells qos-xl marked (output/marks.py)

SELFCHECK_LABELS = {"unit": "機關(單位)名稱", "period": "填報期別", "filler": "填表人", "phone": "聯絡電話",
                    "report_date": "填報日期"}
SELFCHECK_COLUMNS = {
    "code": "項次", "area": "實施要項", "focus": "執行重點", "step": "執行步驟", "deadline": "查核期限",
    "status": "執行狀態", "narrative": "辦理情形", "done_date": "完成日期", "evidence": "佐證資料", "remarks": "備註",
}
SELFCHECK_INPUTS = ("status", "narrative", "done_date", "evidence", "remarks")
WORKPLAN_LABELS = {"unit": "機關全銜", "year": "年度"}
WORKPLAN_SECTIONS = {"basis": "計畫依據", "goals": "計畫目標", "audience": "實施對象", "review": "考核與獎勵"}
WORKPLAN_COLUMNS = {"area": "實施要項", "focus": "工作重點", "method": "工作(推動)方法", "remarks": "備註"}
# every label of a form, by field name
FIELD_LABELS = {SELFCHECK: {**SELFCHECK_LABELS, **SELFCHECK_COLUMNS},
                WORKPLAN: {**WORKPLAN_LABELS, **WORKPLAN_SECTIONS, **WORKPLAN_COLUMNS}}

# -- 執行狀態 -------------------------------------------------------------------------------
DONE = "已完成"
DOING = "辦理中"
NOT_DONE = "未辦理"
NOT_APPLICABLE = "不適用"
STATUSES = (DONE, DOING, NOT_DONE, NOT_APPLICABLE)

# -- what a file can become ----------------------------------------------------------------
ACCEPTED = "accepted"
SUPERSEDED = "superseded"
DUPLICATE = "duplicate"
OTHER_PERIOD = "other-period"
IGNORED = "ignored"
REJECTED = "rejected"
STATES = (ACCEPTED, SUPERSEDED, DUPLICATE, OTHER_PERIOD, IGNORED, REJECTED)
STATE_NAMES = {ACCEPTED: "接受", SUPERSEDED: "已被取代", DUPLICATE: "重複", OTHER_PERIOD: "其他期別",
               IGNORED: "略過", REJECTED: "退回"}

# -- the plan year: four checkpoints, each a form and the month of its period ---------------
# (month None: the period is the plan year itself, "102"; else "102-06" and so on)
CHECKPOINT_MONTHS = (None, 6, 8, 12)
CHECKPOINT_FORMS = {None: WORKPLAN, 6: SELFCHECK, 8: AWARD, 12: SELFCHECK}
CHECKPOINT_NAMES = {None: "工作計畫", 6: "期中自行檢核", 8: "參獎申請書", 12: "年度自行檢核"}
# what a self-check of each month is (PRODUCT: June's 期中自行檢核, December's 年度執行成果)
SELFCHECK_PERIOD_NAMES = {6: "期中自行檢核", 12: "年度執行成果"}
SELFCHECK_MONTHS = tuple(m for m in CHECKPOINT_MONTHS if CHECKPOINT_FORMS[m] == SELFCHECK)

# -- a unit's submission for one checkpoint (status) ----------------------------------------
MISSING = "missing"
SUBMISSION_NAMES = {ACCEPTED: "已接受", REJECTED: "退回待修正", MISSING: "未繳交"}

# -- the December comparison with June: how a step moved ------------------------------------
REGRESSED = "regressed"
NOT_STARTED = "not-started"
COMPARISON_SHEET = "期中與年度比較"
MOVE_NAMES = {REGRESSED: "退步", NOT_STARTED: "未啟動"}   # 退步: 已完成 in June, not in December; 未啟動: 未辦理 in both

# -- problems ----------------------------------------------------------------------------------
ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)
SEVERITY_NAMES = {ERROR: "錯誤", WARNING: "警告"}
# quality hints (``messages.QUALITY_HINTS``): warnings about how a self-check is written, listed apart
HINT_NAME = "品質提示"
HINT_HEADING = "品質提示（不影響收件）"
OTHER_ATTACHMENTS = "不是試算表或參獎申請書，未存入收件匣"     # what ingest does with a message's other attachments

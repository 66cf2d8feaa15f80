"""Mail intake: spreadsheets found in real-shaped mail are saved once, with ledger and receipts."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import sys
import zipfile
from pathlib import Path

import pytest

import builders
import mail_fixtures as mf
from qos_xl.core.names import safe_filename
from qos_xl.core.values import format_roc
from qos_xl.intake.ledger import LEDGER_NAME
from qos_xl.intake.ledger import read as read_ledger
from qos_xl.intake.mail import ZipLimits, classify, decode_text, ingest
from qos_xl.pipeline.provenance import with_provenance
from qos_xl.pipeline.load import is_clutter
from qos_xl.pipeline.validate import validate_paths

NOW = dt.datetime(2013, 7, 1, 9, 0, tzinfo=mf.TAIPEI)
LEDGER_HEADER = ["收件時間", "來源", "寄件者", "主旨", "日期", "Message-ID", "SHA-256", "存檔名稱", "單位代碼"]


@pytest.fixture(scope="module")
def books(tmp_path_factory, plan, registry):
    """Real filled self-checks (valid for 102-06) and a work plan, as bytes."""
    folder = tmp_path_factory.mktemp("books")
    made = {
        "MNT": builders.selfcheck(folder / "mnt", plan, registry, unit="MNT"),
        "MNT2": builders.selfcheck(folder / "mnt2", plan, registry, unit="MNT", report_date="102/6/29"),
        "SEW": builders.selfcheck(folder / "sew", plan, registry, unit="SEW"),
        "NCE": builders.selfcheck(folder / "nce", plan, registry, unit="NCE"),
        "BLD": builders.selfcheck(folder / "bld", plan, registry, unit="BLD"),
        "PLN": builders.workplan(folder / "pln", plan, registry, unit="PLN"),
        "BAD": builders.selfcheck(folder / "bad", plan, registry, unit="MNT", edit=lambda ws: ws.cell(8, 6, "做完了")),
    }
    return {code: path.read_bytes() for code, path in made.items()}


class Run:
    def __init__(self, tmp_path: Path, plan, registry):
        self.tmp, self.plan, self.registry = tmp_path, plan, registry
        self.inbox = tmp_path / "workbooks" / "inbox"
        self.receipts = tmp_path / "outputs" / "receipts"
        self.count = 0

    def write(self, data: bytes, name: str | None = None) -> Path:
        self.count += 1
        path = self.tmp / "mail" / (name or f"m{self.count}.eml")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def __call__(self, *sources, **kwargs):
        return ingest([Path(s) for s in sources], self.inbox, self.receipts, self.plan, self.registry, now=NOW, **kwargs)

    def inbox_names(self) -> list[str]:
        return sorted(p.name for p in self.inbox.iterdir() if not p.name.startswith("."))

    def ledger(self) -> list[list[str]]:
        raw = (self.inbox / LEDGER_NAME).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


@pytest.fixture
def run(tmp_path, plan, registry):
    return Run(tmp_path, plan, registry)


def only(result):
    (message,) = result.messages
    return message


def receipt(message) -> str:
    return Path(message.receipt).read_text(encoding="utf-8")


# -- one message at a time ---------------------------------------------------------------


def test_webmail_rfc2231_name_is_saved_with_ledger_and_receipt(run, books):
    source = run.write(mf.webmail(books["MNT"], "養工處_自行檢核表.xlsx"))
    result = run(source)
    message = only(result)
    assert (message.sender, message.subject, message.unit, message.unit_code) == (
        "王小明 <mnt@pwb.kcg.gov.tw>", "養工處自行檢核表", "養工處", "MNT")
    (att,) = message.attachments
    assert att.state == "saved" and att.name == "養工處_自行檢核表.xlsx"
    assert att.saved_as == "1020628_養工處_養工處_自行檢核表.xlsx"
    assert run.inbox_names() == [att.saved_as]
    assert (run.inbox / att.saved_as).read_bytes() == books["MNT"]
    assert att.report.state == "accepted" and att.report.unit_code == "MNT"
    assert result.saved == 1 and not result.has_problems

    rows = run.ledger()
    assert rows[0] == LEDGER_HEADER and len(rows) == 2
    row = dict(zip(rows[0], rows[1]))
    assert row["存檔名稱"] == att.saved_as and row["SHA-256"] == att.sha256 and row["單位代碼"] == "MNT"
    assert row["寄件者"] == "王小明 <mnt@pwb.kcg.gov.tw>" and row["主旨"] == "養工處自行檢核表"
    assert row["Message-ID"] == "<web-1@mail.example>" and row["來源"] == str(source)
    assert row["日期"].startswith("2013-06-28T10:15:00+08:00") and row["收件時間"].startswith("2013-07-01T09:00")

    ledger = read_ledger(run.inbox)
    assert ledger[att.sha256].sender == "王小明 <mnt@pwb.kcg.gov.tw>"
    assert format_roc(ledger[att.sha256].date) == "102/06/28" and ledger[att.sha256].saved_as == att.saved_as

    assert Path(message.receipt).parent == run.receipts and Path(message.receipt).name.startswith("1020628_養工處_")
    text = receipt(message)
    assert text.startswith("養護工程處 王小明 您好：")
    assert "養工處_自行檢核表.xlsx" in text and f"存檔名稱：{att.saved_as}" in text
    assert "檢核結果：檢核通過，已收件" in text and "秘書室 敬上" in text

    data = result.to_dict()
    assert data["saved"] == 1
    assert data["messages"][0]["attachments"][0] | {"validation": None} == {
        "name": "養工處_自行檢核表.xlsx", "saved_as": att.saved_as, "sha256": att.sha256, "state": "saved",
        "reason": None, "validation": None}
    assert data["messages"][0]["receipt"] == message.receipt and data["messages"][0]["unit"] == "養工處"


def test_ledger_is_clutter_for_validation(run, books):
    run(run.write(mf.webmail(books["MNT"], "養工處_自行檢核表.xlsx")))
    assert is_clutter(run.inbox / LEDGER_NAME)
    checked = validate_paths([run.inbox], run.plan, run.registry, jobs=1)
    states = {r.file: r.state for r in checked.files}
    assert LEDGER_NAME not in states and list(states.values()) == ["accepted"]


def test_outlook_big5_name_only_in_content_type(run, books):
    message = only(run(run.write(mf.outlook(books["MNT"], "養工處_自行檢核表(修正版).xlsx"))))
    assert message.subject == "養工處期中自行檢核表" and message.sender == "養工處 王小明 <mnt@pwb.kcg.gov.tw>"
    (att,) = message.attachments
    assert att.saved_as == "1020628_養工處_養工處_自行檢核表(修正版).xlsx" and att.report.state == "accepted"


def test_raw_8bit_big5_filename_and_subject(run, books):
    message = only(run(run.write(mf.raw_big5(books["SEW"], "下水道處_自行檢核表.xlsx"))))
    assert message.subject == "下水道處自行檢核表" and message.unit == "下水道處"
    assert [a.saved_as for a in message.attachments] == ["1020628_下水道處_下水道處_自行檢核表.xlsx"]


def test_rfc2231_continuations(run, books):
    message = only(run(run.write(mf.continuations(books["BLD"], "建管處_自行檢核表_102年度期中_第二次修正版.xlsx"))))
    assert message.subject == "建管處檔案"
    assert [a.saved_as for a in message.attachments] == ["1020628_建管處_建管處_自行檢核表_102年度期中_第二次修正版.xlsx"]


def test_octet_stream_without_extension_is_sniffed(run, books):
    message = only(run(run.write(mf.octet_stream(books["NCE"], "新工處自行檢核表"))))
    (att,) = message.attachments
    assert att.saved_as == "1020628_新工處_新工處自行檢核表.xlsx" and att.report.state == "accepted"
    nameless = only(run(run.write(mf.octet_stream(books["MNT"], None, message_id="<nameless@nce>"))))
    assert [a.saved_as for a in nameless.attachments] == ["1020628_新工處_附件1.xlsx"]


def test_attachment_without_content_type(run, books):
    message = only(run(run.write(mf.no_type(books["PLN"]))))
    (att,) = message.attachments
    assert att.saved_as == "1020628_企劃科_workplan.xlsx"
    assert att.report.form == "workplan" and att.report.state == "accepted"


def test_webmail_inline_disposition(run, books):
    message = only(run(run.write(mf.webmail(books["MNT"], "養工處.xlsx", inline=True))))
    assert [a.saved_as for a in message.attachments] == ["1020628_養工處_養工處.xlsx"]


def test_forward_by_another_unit_warns_sender_unit_mismatch(run, books):
    inner = mf.webmail(books["MNT"], "養工處_自行檢核表.xlsx")
    message = only(run(run.write(mf.forward(inner))))
    assert message.unit == "秘書室" and message.subject == "FW: 養工處自行檢核表"
    (att,) = message.attachments
    assert att.saved_as == "1020628_秘書室_養工處_自行檢核表.xlsx"
    report = att.report
    assert report.state == "accepted" and report.provenance.sender == "秘書室 <sec@pwb.kcg.gov.tw>"
    (problem,) = [p for p in report.problems if p.code == "sender-unit-mismatch"]
    assert problem.severity == "warning"
    assert problem.message == "寄件者 sec@pwb.kcg.gov.tw 屬於「秘書室」，但檔案填的是「養護工程處」。請確認是否代為寄送。"
    text = receipt(message)
    assert "【警告】寄件者 sec@pwb.kcg.gov.tw 屬於「秘書室」" in text
    assert "檢核通過，已收件（另有 1 項提醒，請參考）" in text


def test_same_unit_sender_has_no_mismatch_and_unknown_sender_is_named(run, books):
    known = only(run(run.write(mf.webmail(books["MNT"], "a.xlsx"))))
    assert not [p for p in known.attachments[0].report.problems if p.code == "sender-unit-mismatch"]
    stranger = only(run(run.write(mf.webmail(books["SEW"], "b.xlsx", sender="someone@gmail.com", message_id="<s@g>"))))
    (att,) = stranger.attachments
    assert stranger.unit == "未知寄件者" and stranger.unit_code is None
    assert att.saved_as == "1020628_未知寄件者_b.xlsx"
    assert not [p for p in att.report.problems if p.code == "sender-unit-mismatch"]
    assert run.ledger()[-1][-1] == ""


def test_invalid_workbook_verdict_and_problems_in_receipt(run, books):
    message = only(run(run.write(mf.webmail(books["BAD"], "養工處_自行檢核表.xlsx"))))
    (att,) = message.attachments
    assert att.state == "saved" and att.report.state == "rejected"
    text = receipt(message)
    assert "檢核未通過，請修正後重新寄送" in text and "儲存格 F8" in text and "「做完了」" in text
    assert "請依上列說明修正後重新寄送" in text


def test_zip_with_two_workbooks_and_a_traversal_member(run, books):
    archive = mf.zip_bytes({"養工處_自行檢核表.xlsx": books["MNT"], "工作計畫/企劃科_工作計畫.xlsx": books["PLN"],
                            "../../evil.xlsx": books["SEW"], "說明.txt": b"readme"}, cp950_names=True)
    message = only(run(run.write(mf.with_attachment(archive, "繳交資料.zip"))))
    by_state = {}
    for att in message.attachments:
        by_state.setdefault(att.state, []).append(att)
    assert sorted(a.saved_as for a in by_state["saved"]) == [
        "1020628_養工處_企劃科_工作計畫.xlsx", "1020628_養工處_養工處_自行檢核表.xlsx"]
    (bad,) = by_state["rejected"]
    assert bad.name == "繳交資料.zip／../../evil.xlsx" and "上層資料夾" in bad.reason and bad.saved_as is None
    assert message.others == ["繳交資料.zip／說明.txt"]
    assert run.inbox_names() == ["1020628_養工處_企劃科_工作計畫.xlsx", "1020628_養工處_養工處_自行檢核表.xlsx"]
    assert not list(run.tmp.rglob("evil.xlsx"))
    text = receipt(message)
    assert "未存檔" in text and "另有 1 個非試算表附件未處理：繳交資料.zip／說明.txt" in text


def test_zip_bounds(run, books):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.xlsx", b"\0" * (3 * 2**20))
        zf.writestr("ok.xlsx", books["MNT"])
    inner = mf.zip_bytes({"in.xlsx": books["SEW"]})
    middle = mf.zip_bytes({"inner.zip": inner})
    deep = mf.zip_bytes({"middle.zip": middle})
    limits = ZipLimits(members=3, member_size=2 * 2**20, total_size=10 * 2**20, ratio=100)
    many = mf.zip_bytes({f"f{i}.xlsx": b"x" for i in range(5)})
    result = run(run.write(mf.with_attachment(bomb.getvalue(), "bomb.zip")),
                 run.write(mf.with_attachment(middle, "one-level.zip", message_id="<z2@mnt>")),
                 run.write(mf.with_attachment(deep, "two-levels.zip", message_id="<z3@mnt>")),
                 run.write(mf.with_attachment(many, "many.zip", message_id="<z4@mnt>")), limits=limits)
    bomb_msg, one, two, lots = result.messages
    states = {a.name: (a.state, a.reason or "") for a in bomb_msg.attachments}
    assert states["bomb.zip／ok.xlsx"][0] == "saved"
    assert states["bomb.zip／big.xlsx"][0] == "rejected" and "異常龐大" in states["bomb.zip／big.xlsx"][1]
    assert [(a.name, a.state) for a in one.attachments] == [("one-level.zip／inner.zip／in.xlsx", "saved")]
    assert [(a.name, a.state) for a in two.attachments] == [("two-levels.zip／middle.zip／inner.zip", "rejected")]
    assert "多層壓縮檔" in two.attachments[0].reason
    assert [a.state for a in lots.attachments] == ["rejected"] and "超過上限 3 個" in lots.attachments[0].reason


def test_duplicate_attachment_is_saved_once(run, books):
    first = run.write(mf.webmail(books["MNT"], "養工處_自行檢核表.xlsx"))
    second = run.write(mf.outlook(books["MNT"], "養工處_自行檢核表(再寄一次).xlsx", date=dt.datetime(2013, 6, 30, 8, 0, tzinfo=mf.TAIPEI)))
    result = run(first, second)
    a, b = (m.attachments[0] for m in result.messages)
    assert a.state == "saved" and b.state == "already-in-inbox" and b.saved_as == a.saved_as and b.sha256 == a.sha256
    assert run.inbox_names() == [a.saved_as] and len(run.ledger()) == 2
    assert "先前已收到相同檔案，未重複存檔" in receipt(result.messages[1])
    first_receipt = Path(result.messages[0].receipt).read_text(encoding="utf-8")
    again = run(first)  # the same mailbox ingested again: nothing new, the receipt reads as before
    assert only(again).attachments[0].state == "already-in-inbox" and len(run.ledger()) == 2
    assert again.to_dict()["saved"] == 0 and receipt(only(again)) == first_receipt


def test_same_name_different_content_gets_a_new_name(run, books):
    run(run.write(mf.webmail(books["MNT"], "養工處_自行檢核表.xlsx")))
    message = only(run(run.write(mf.webmail(books["MNT2"], "養工處_自行檢核表.xlsx", message_id="<web-2@mail.example>"))))
    assert message.attachments[0].saved_as == "1020628_養工處_養工處_自行檢核表_2.xlsx"
    assert len(run.inbox_names()) == 2 and len(run.ledger()) == 3
    assert len(list(run.receipts.iterdir())) == 2


def test_mbox_with_three_messages(run, books):
    box = mf.write_mbox(run.tmp / "mail" / "收件匣.mbox", [
        mf.webmail(books["MNT"], "養工處.xlsx"),
        mf.raw_big5(books["SEW"], "下水道處.xlsx"),
        mf.plain(),
    ])
    result = run(box)
    assert [m.source for m in result.messages] == [f"{box}#1", f"{box}#2", f"{box}#3"]
    assert [len(m.attachments) for m in result.messages] == [1, 1, 0]
    assert result.saved == 2 and len(run.ledger()) == 3
    assert len(list(run.receipts.iterdir())) == 3


def test_maildir_folder(run, books):
    folder = mf.write_maildir(run.tmp / "Maildir", [mf.webmail(books["MNT"], "養工處.xlsx"),
                                                    mf.no_type(books["PLN"])])
    result = run(folder)
    assert sorted(a.saved_as for m in result.messages for a in m.attachments) == [
        "1020628_企劃科_workplan.xlsx", "1020628_養工處_養工處.xlsx"]
    assert all(m.source.startswith(f"{folder}#") for m in result.messages)


def test_folder_of_eml_files(run, books):
    run.write(mf.webmail(books["MNT"], "養工處.xlsx"), "a.eml")
    run.write(mf.plain(), "b.eml")
    result = run(run.tmp / "mail")
    assert [len(m.attachments) for m in result.messages] == [1, 0]


def test_message_without_spreadsheet_is_listed(run):
    result = run(run.write(mf.plain()))
    message = only(result)
    assert message.attachments == [] and message.reason is None and message.others == ["公文.pdf"]
    assert not result.has_problems and run.inbox_names() == []
    text = receipt(message)
    assert "沒有試算表附件" in text and "公文.pdf" in text
    assert message.to_dict()["attachments"] == []


def test_csv_sent_as_excel_type_is_not_a_spreadsheet(run):
    message = only(run(run.write(mf.with_attachment(b"a,b\n1,2\n", "資料.csv", "application/vnd.ms-excel"))))
    assert message.attachments == [] and message.others == ["資料.csv"]


def test_malformed_messages_never_crash(run, books):
    garbage = run.write(b"\x00\x01\x02\xff\xfe" * 50, "garbage.eml")
    empty = run.write(b"", "empty.eml")
    broken = run.write(b"From: mnt@pwb.kcg.gov.tw\r\nSubject: =?big5?B?!!!notbase64?=\r\nDate: yesterday\r\n"
                       b"Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: application/vnd.ms-excel; "
                       b"name=\"a.xls\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%%\r\n", "broken.eml")
    empty_box = run.write(b"", "empty.mbox")
    bad_msg = run.write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "bad.msg")
    result = run(garbage, empty, broken, empty_box, bad_msg, run.tmp / "missing.eml")
    reasons = [m.reason for m in result.messages]
    assert reasons[0].startswith("無法辨識為電子郵件") and reasons[1] == "郵件檔是空的。"
    assert reasons[3] == "信箱中沒有任何郵件。" and "Outlook" in reasons[4] and reasons[5] == "找不到這個檔案或資料夾。"
    broken_msg = result.messages[2]
    assert broken_msg.reason is None and broken_msg.sender == "mnt@pwb.kcg.gov.tw"
    assert broken_msg.notes  # the multipart has no boundary: said so in the receipt
    assert result.has_problems and result.to_dict()["unreadable"] == 5
    assert all(m.receipt is None for m in result.messages if m.reason)


def test_outlook_msg_with_embedded_message(run, books):
    path = mf.outlook_msg(run.tmp / "養工處來信.msg", subject="養工處自行檢核表", sender_name="王小明",
                          address="mnt@pwb.kcg.gov.tw", attachments=[
                              ("養工處_自行檢核表.xlsx", books["MNT"]),
                              ("轉寄：企劃科工作計畫", {"subject": "企劃科工作計畫", "sender_name": "李大華",
                                                "address": "planning@pwb.kcg.gov.tw",
                                                "attachments": [("企劃科_工作計畫.xlsx", books["PLN"])]}),
                              ("image001.png", b"\x89PNG\r\n\x1a\n0000"),
                          ])
    message = only(run(path))
    assert message.subject == "養工處自行檢核表" and message.unit == "養工處"
    assert message.date.startswith("2013-06-28T10:15:00+08:00")
    assert sorted(a.saved_as for a in message.attachments) == [
        "1020628_養工處_企劃科_工作計畫.xlsx", "1020628_養工處_養工處_自行檢核表.xlsx"]
    assert message.others == ["image001.png"]
    plan_report = next(a.report for a in message.attachments if "企劃科" in a.saved_as)
    assert "sender-unit-mismatch" in {p.code for p in plan_report.problems}


def test_msg_attached_to_an_eml_is_opened(run, books):
    path = mf.outlook_msg(run.tmp / "inner.msg", subject="x", sender_name="x", address="x@example.com",
                          attachments=[("養工處.xlsx", books["MNT"])])
    message = only(run(run.write(mf.with_attachment(path.read_bytes(), "原信.msg", "application/octet-stream"))))
    assert [a.saved_as for a in message.attachments] == ["1020628_養工處_養工處.xlsx"]


def test_windows_path_in_filename_and_eml_attached_as_octet_stream(run, books):
    inner = mf.webmail(books["MNT"], "C:\\Users\\王小明\\Desktop\\養工處.xlsx")
    message = only(run(run.write(mf.with_attachment(inner, "原信.eml", "application/octet-stream"))))
    assert [(a.name, a.saved_as) for a in message.attachments] == [("養工處.xlsx", "1020628_養工處_養工處.xlsx")]


def test_received_date_is_taipei_time_else_received_header_else_now(run, books):
    late = only(run(run.write(mf.webmail(books["MNT"], "a.xlsx", date=dt.datetime(2013, 6, 27, 17, 30, tzinfo=dt.timezone.utc)))))
    assert late.attachments[0].saved_as.startswith("1020628_") and late.date == "2013-06-28T01:30:00+08:00"
    undated = mf.webmail(books["SEW"], "b.xlsx", date=None, message_id="<undated@mnt>")
    received = b"Received: from mail.mnt.kcg.gov.tw by pwb; Sat, 29 Jun 2013 08:00:00 +0800\r\n" + undated
    assert only(run(run.write(received))).attachments[0].saved_as.startswith("1020629_")
    nothing = only(run(run.write(mf.webmail(books["NCE"], "c.xlsx", date=None, message_id="<nodate@mnt>"))))
    assert nothing.attachments[0].saved_as.startswith(format_roc(NOW, compact=True) + "_") and nothing.date == ""
    assert "於 " not in receipt(nothing)


def test_msg_without_extract_msg_installed_is_listed(run, books, monkeypatch):
    path = mf.outlook_msg(run.tmp / "a.msg", subject="x", sender_name="x", address="mnt@pwb.kcg.gov.tw",
                          attachments=[("養工處.xlsx", books["MNT"])])
    monkeypatch.setitem(sys.modules, "extract_msg", None)
    message = only(run(path))
    assert "extract-msg" in message.reason and message.attachments == [] and message.receipt is None


def test_apply_provenance_for_merge(run, books):
    run(run.write(mf.forward(mf.webmail(books["MNT"], "養工處.xlsx"))), run.write(mf.webmail(books["SEW"], "b.xlsx")))
    (run.inbox / "手動存入.xlsx").write_bytes(books["NCE"])
    reports = validate_paths([run.inbox], run.plan, run.registry, jobs=1).files
    reports = with_provenance(reports, read_ledger(run.inbox), run.registry)
    by_name = {r.file: r for r in reports}
    forwarded = by_name["1020628_秘書室_養工處.xlsx"]
    assert forwarded.provenance.sender == "秘書室 <sec@pwb.kcg.gov.tw>"
    assert format_roc(forwarded.provenance.received) == "102/06/28"
    assert [p.code for p in forwarded.problems] == ["sender-unit-mismatch"]
    assert "寄件者 sec@pwb.kcg.gov.tw 屬於「秘書室」" in forwarded.problems[0].message
    stranger = by_name["1020628_養工處_b.xlsx"]  # sent by MNT, a workbook of SEW
    assert stranger.to_dict()["sender"] == "王小明 <mnt@pwb.kcg.gov.tw>"
    assert [p.code for p in stranger.problems] == ["sender-unit-mismatch"]
    assert by_name["手動存入.xlsx"].provenance is None and by_name["手動存入.xlsx"].problems == ()


# -- pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    (mf.b_word("養工處自行檢核表"), "養工處自行檢核表"),
    ("=?big5?B?" + base64.b64encode("碁銹".encode("cp950")).decode() + "?=", "碁銹"),  # cp950-only
    ("=?cp950?Q?" + "".join(f"={b:02X}" for b in "檢核".encode("cp950")) + "?=", "檢核"),
    ("=?UTF-8?B?" + base64.b64encode("養工".encode()).decode() + "?= =?UTF-8?B?"
     + base64.b64encode("處".encode()).decode() + "?=", "養工處"),
    ("=?big5?B?" + base64.b64encode("養".encode("cp950")[:1]).decode() + "?==?big5?B?"
     + base64.b64encode("養".encode("cp950")[1:] + "工".encode("cp950")).decode() + "?=", "養工"),
    ("FW: 進度\r\n\t報告", "FW: 進度 報告"),
    ("=?big5?B?!!!?=", ""),  # broken base64: nothing readable, and no crash
    ("=?no-such-charset?Q?abc?=", "abc"),
])
def test_decode_text(raw, expected):
    assert decode_text(raw) == expected


def test_safe_filename():
    assert safe_filename("..\\..\\windows/system32:evil\x00.xlsx") == "_.._windows_system32_evil.xlsx"
    long = safe_filename("檢" * 400 + ".xlsx")
    assert long.endswith(".xlsx") and len(long) <= 150 and len(long.encode()) <= 180
    assert safe_filename("a\u202egpj.xlsx") == "a_gpj.xlsx"
    assert format_roc(dt.date(2013, 6, 28), compact=True) == "1020628"


def test_classify_by_content(books):
    assert classify("", "application/octet-stream", books["MNT"]) == ("sheet", ".xlsx")
    assert classify("報表.xls", "application/octet-stream", books["MNT"]) == ("sheet", ".xls")
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<x/>")
    assert classify("data", "application/octet-stream", ods.getvalue()) == ("sheet", ".ods")
    assert classify("x.zip", "application/octet-stream", mf.zip_bytes({"a.txt": b"a"})) == ("archive", ".zip")
    assert classify("report.docx", "application/octet-stream", _docx()) == ("other", ".docx")
    assert classify("a.rar", "application/octet-stream", b"Rar!\x1a\x07\x00") == ("bad-archive", ".rar")


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w/>")
    return out.getvalue()


def test_ledger_cells_never_become_formulas(run, books):
    source = run.write(mf.webmail(books["MNT"], "x.xlsx", subject='=HYPERLINK("http://evil","點我")'))
    att = only(run(source)).attachments[0]
    row = dict(zip(*run.ledger()))
    assert row["主旨"] == "'=HYPERLINK(\"http://evil\",\"點我\")"
    assert read_ledger(run.inbox)[att.sha256].subject == '=HYPERLINK("http://evil","點我")'


def test_read_ledger_without_ledger(tmp_path):
    assert read_ledger(tmp_path) == {}


def test_ingest_command_then_merge_shows_sender(tmp_path, books, plan, registry):
    """The clerk's two commands: ingest a folder of saved mail, then merge; the intake log knows the sender."""
    import json

    from click.testing import CliRunner

    from qos_xl.cli import cli
    from conftest import CONFIG

    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "a.eml").write_bytes(mf.webmail(books["MNT"], "養工處_自行檢核表.xlsx"))
    (mail / "b.eml").write_bytes(mf.webmail(books["SEW"], "下水道處_自行檢核表.xlsx", sender="mnt@pwb.kcg.gov.tw",
                                            message_id="<other@mnt>"))
    (mail / "c.eml").write_bytes(mf.plain())
    inbox, receipts = tmp_path / "inbox", tmp_path / "outputs" / "receipts"
    args = ["ingest", "--config", str(CONFIG), "--inbox", str(inbox), "--receipts", str(receipts), str(mail)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "✔ 已存入 養工處_自行檢核表.xlsx" in result.output
    assert "沒有試算表附件" in result.output
    assert len(list(receipts.glob("*.txt"))) == 3
    again = CliRunner().invoke(cli, [*args, "--json"])
    assert json.loads(again.output)["saved"] == 0
    merged = CliRunner().invoke(cli, ["merge", "--config", str(CONFIG), "--inbox", str(inbox), "--out", str(tmp_path / "out"),
                                      "--period", "102-06", "--json"])
    files = {f["file"]: f for f in json.loads(merged.output)["files"]}
    assert len(files) == 2  # the ledger is qos-xl's own, not a submission
    sew = next(f for f in files.values() if f["unit"] == "下水道工程處")
    assert "mnt@pwb.kcg.gov.tw" in sew["sender"] and sew["received"]
    assert [p["code"] for p in sew["problems"]] == ["sender-unit-mismatch"]

"""Mail intake: spreadsheets found in real-shaped mail are saved once, with ledger and receipts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import stat
import sys
import zipfile
from pathlib import Path

import pytest

import builders
import mail_fixtures as mf
from qos_xl.core.names import safe_filename
from qos_xl.core.values import format_roc
from qos_xl.intake import zipguard
from qos_xl.intake.ledger import LEDGER_NAME
from qos_xl.intake.ledger import read as read_ledger
from qos_xl.output.receipts import write_receipts
from qos_xl.output.reply import Sender
from qos_xl.pipeline.ingest import ingest
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

    def __call__(self, *sources, now=NOW, **kwargs):
        """What ``qos-xl ingest`` does: save and validate, then write the receipts."""
        saved = ingest([Path(s) for s in sources], self.inbox, self.plan, self.registry, now=now, **kwargs)
        return write_receipts(saved, self.receipts, Sender.from_settings(self.plan.settings))

    def receipts_bytes(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in self.receipts.iterdir()}

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
        "name": "養工處_自行檢核表.xlsx", "kind": "spreadsheet", "saved_as": att.saved_as, "sha256": att.sha256,
        "state": "saved", "reason": None, "validation": None}
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
    assert "檢核通過，已收件（另有 1 項警告，請參考）" in text


def test_same_unit_sender_has_no_mismatch_and_unknown_sender_is_named(run, books):
    known = only(run(run.write(mf.webmail(books["MNT"], "a.xlsx"))))
    assert not [p for p in known.attachments[0].report.problems if p.code == "sender-unit-mismatch"]
    stranger = only(run(run.write(mf.webmail(books["SEW"], "b.xlsx", sender="someone@gmail.com", message_id="<s@g>"))))
    (att,) = stranger.attachments
    assert stranger.unit == "未知寄件者" and stranger.unit_code is None
    assert att.saved_as == "1020628_未知寄件者_b.xlsx"
    assert not [p for p in att.report.problems if p.code == "sender-unit-mismatch"]
    assert run.ledger()[-1][-1] == ""


def test_receipt_is_signed_dated_and_gives_the_contact_from_settings(run, books):
    """The mail receipt answers as settings.csv says: 回覆署名, 補件期限 for a file to fix, 聯絡人 and 聯絡電話."""
    import dataclasses

    run.plan = dataclasses.replace(run.plan, settings={**run.plan.settings, "回覆署名": "工務局秘書室",
                                                       "補件期限": "102/7/10", "聯絡人": "陳小華",
                                                       "聯絡電話": "07-3368333 轉 2231"})
    text = receipt(only(run(run.write(mf.webmail(books["BAD"], "養工處_自行檢核表.xlsx")))))
    assert "請於 102/07/10 前依上列說明修正後重新寄送" in text
    assert "如有疑問，請洽工務局秘書室 陳小華（07-3368333 轉 2231）。" in text
    assert text.rstrip().endswith("工務局秘書室 敬上")


def test_invalid_workbook_verdict_and_problems_in_receipt(run, books):
    message = only(run(run.write(mf.webmail(books["BAD"], "養工處_自行檢核表.xlsx"))))
    (att,) = message.attachments
    assert att.state == "saved" and att.report.state == "rejected"
    text = receipt(message)
    assert "檢核未通過，請修正後重新寄送" in text and "儲存格 F8" in text and "「做完了」" in text
    assert "請依上列說明修正後重新寄送（檔名不拘），並更新「填報日期」。" in text


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
    assert message.others == ["繳交資料.zip／說明.txt：純文字檔"]
    assert run.inbox_names() == ["1020628_養工處_企劃科_工作計畫.xlsx", "1020628_養工處_養工處_自行檢核表.xlsx"]
    assert not list(run.tmp.rglob("evil.xlsx"))
    text = receipt(message)
    assert "未存檔" in text
    assert "其他附件（1 個，不是試算表或參獎申請書，未存入收件匣）：\n- 繳交資料.zip／說明.txt：純文字檔\n" in text


def _encrypted(data: bytes) -> bytes:
    """A zip with the "encrypted" flag set on its members (local and central headers), as a password zip has."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = out.find(signature)
        while at >= 0:
            out[at + offset] |= 0x1
            at = out.find(signature, at + 4)
    return bytes(out)


def test_zip_bounds(run, books):
    """ZIP attachments go through the one ZIP guard (intake.zipguard): an archive beyond a bound is refused whole."""
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.xlsx", b"\0" * (3 * 2**20))
        zf.writestr("ok.xlsx", books["MNT"])
    inner = mf.zip_bytes({"in.xlsx": books["SEW"]})
    middle = mf.zip_bytes({"inner.zip": inner})
    deep = mf.zip_bytes({"middle.zip": middle})
    limits = zipguard.Limits(max_members=3, max_part_bytes=2 * 2**20, max_total_bytes=10 * 2**20, max_ratio=100)
    many = mf.zip_bytes({f"f{i}.xlsx": b"x" for i in range(5)})
    locked = _encrypted(mf.zip_bytes({"a.xlsx": books["NCE"]}))
    result = run(run.write(mf.with_attachment(bomb.getvalue(), "bomb.zip")),
                 run.write(mf.with_attachment(middle, "one-level.zip", message_id="<z2@mnt>")),
                 run.write(mf.with_attachment(deep, "two-levels.zip", message_id="<z3@mnt>")),
                 run.write(mf.with_attachment(many, "many.zip", message_id="<z4@mnt>")),
                 run.write(mf.with_attachment(locked, "locked.zip", message_id="<z5@mnt>")), limits=limits)
    bomb_msg, one, two, lots, password = result.messages
    (refused,) = bomb_msg.attachments
    assert (refused.name, refused.state) == ("bomb.zip", "rejected")
    assert refused.reason.startswith("壓縮檔超過安全上限（big.xlsx 解壓後 3 MB，上限 2 MB）") and "請直接附上試算表檔案" in refused.reason
    assert [(a.name, a.state) for a in one.attachments] == [("one-level.zip／inner.zip／in.xlsx", "saved")]
    assert [(a.name, a.state) for a in two.attachments] == [("two-levels.zip／middle.zip／inner.zip", "rejected")]
    assert "多層壓縮檔" in two.attachments[0].reason
    assert [a.state for a in lots.attachments] == ["rejected"] and "內含 5 個檔案，上限 3 個" in lots.attachments[0].reason
    assert [a.state for a in password.attachments] == ["rejected"] and "壓縮檔設有密碼" in password.attachments[0].reason
    assert result.has_problems and run.inbox_names() == ["1020628_養工處_in.xlsx"]


def test_zip_inflation_is_bounded_per_message(run, books):
    """What all the zips of one message inflate shares one budget."""
    limits = zipguard.Limits(max_total_bytes=len(books["MNT"]) + len(books["SEW"]) // 2)
    message = only(run(run.write(mf.zip_pair(mf.zip_bytes({"a.xlsx": books["MNT"]}), mf.zip_bytes({"b.xlsx": books["SEW"]}))),
                       limits=limits))
    assert [(a.name, a.state) for a in message.attachments] == [("a.zip／a.xlsx", "saved"), ("b.zip／b.xlsx", "rejected")]
    assert "總量超過上限" in message.attachments[1].reason


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
    assert result.messages[1].subject == "下水道處自行檢核表"   # raw 8-bit Big5 in an mbox
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
    assert message.attachments == [] and message.reason is None and message.others == ["公文.pdf：PDF 文件（.pdf）"]
    assert not result.has_problems and run.inbox_names() == []
    text = receipt(message)
    assert "郵件中沒有試算表（.xlsx、.xlsm、.xls 或 .ods）或參獎申請書附件" in text
    assert "請附上填寫完成的自行檢核表、工作計畫或參獎申請書後重新寄送" in text and "- 公文.pdf：PDF 文件（.pdf）" in text
    assert message.to_dict()["attachments"] == []


def test_csv_sent_as_excel_type_is_not_a_spreadsheet(run):
    message = only(run(run.write(mf.with_attachment(b"a,b\n1,2\n", "資料.csv", "application/vnd.ms-excel"))))
    assert message.attachments == [] and message.others == ["資料.csv：CSV 文字檔"]


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
    assert reasons[3] == "信箱中沒有任何郵件。" and "Outlook" in reasons[4]
    assert result.missing == [str(run.tmp / "missing.eml")]   # not a message: one line of the summary
    broken_msg = result.messages[2]
    assert broken_msg.reason is None and broken_msg.sender == "mnt@pwb.kcg.gov.tw"
    assert broken_msg.notes == ["郵件的 MIME 結構異常（找不到分隔線），可能有附件無法取出。"]
    assert result.has_problems and result.to_dict()["unreadable"] == 4
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
    assert message.others == ["image001.png：圖片檔"]
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


# -- real mail: sources, content, documents, receipts ------------------------------------------

XLSX = mf.XLSX_TYPE
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


DOCX = mf.zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODT = mf.zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})


def test_rerun_rewrites_every_receipt_byte_for_byte(run, books):
    """A receipt is a function of the message and the inbox before it, whatever day ingest runs again."""
    no_id = run.write(mf.with_attachment(books["MNT"], "養工處.xlsx", XLSX, message_id=None))
    same_file = run.write(mf.webmail(books["MNT"], "養工處(再寄).xlsx", message_id="<again@mnt>"))
    undated = run.write(mf.with_attachment(books["SEW"], "b.xlsx", XLSX, sender="sewer@pwb.kcg.gov.tw", date=None,
                                           message_id=None))
    question = run.write(mf.plain(message_id=None))
    first = run(no_id, same_file, undated, question)
    assert [a.state for m in first.messages for a in m.attachments] == ["saved", "already-in-inbox", "saved"]
    assert "先前已收到" not in receipt(first.messages[0])
    assert "（先前已收到相同檔案，未重複存檔）" in receipt(first.messages[1])
    assert Path(first.messages[2].receipt).name.startswith("未註明日期_下水道處_")
    receipts, ledger_bytes = run.receipts_bytes(), (run.inbox / LEDGER_NAME).read_bytes()
    assert len(receipts) == 4

    again = run(question, undated, same_file, no_id, now=NOW + dt.timedelta(days=40))   # another day, another order
    assert again.saved == 0 and all(a.state == "already-in-inbox" for m in again.messages for a in m.attachments)
    assert run.receipts_bytes() == receipts
    assert (run.inbox / LEDGER_NAME).read_bytes() == ledger_bytes


@pytest.mark.parametrize("sender, greeting", [
    ("秘書室 張小姐 <sec@pwb.kcg.gov.tw>", "秘書室 張小姐 您好："),          # the unit once
    ("養工處-王小明 <mnt@pwb.kcg.gov.tw>", "養護工程處 王小明 您好："),
    ("王小明（秘書室） <sec@pwb.kcg.gov.tw>", "王小明（秘書室） 您好："),
    ("秘書室 <sec@pwb.kcg.gov.tw>", "秘書室 您好："),
    ("someone@gmail.com", "您好："),                                          # no name, no unit: 您好 alone
    ("Wang Zhuo <zhuo@example.com>", "Wang Zhuo 您好："),
    (None, "您好："),
])
def test_greeting_names_the_sender_and_the_unit_once(run, sender, greeting):
    message = only(run(run.write(mf.plain(sender=sender))))
    assert receipt(message).splitlines()[0] == greeting


def test_a_note_is_said_once(run, books):
    raw = (b"From: mnt@pwb.kcg.gov.tw\r\nSubject: x\r\nMessage-ID: <notes@mnt>\r\nContent-Type: multipart/mixed; "
           b"boundary=outer\r\n\r\n--outer\r\nContent-Type: multipart/mixed\r\n\r\na\r\n--outer\r\n"
           b"Content-Type: multipart/related\r\n\r\nb\r\n--outer--\r\n")
    text = receipt(only(run(run.write(raw))))
    assert text.count("郵件的 MIME 結構異常（找不到分隔線），可能有附件無法取出。") == 1


def test_folders_are_searched_recursively(run, books):
    root = run.tmp / "郵件備份"
    (root / "六月" / "養工處").mkdir(parents=True)
    (root / "六月" / "養工處" / "a.eml").write_bytes(mf.webmail(books["MNT"], "養工處.xlsx"))
    mf.outlook_msg(root / "六月" / "下水道處.msg", subject="自行檢核表", sender_name="陳小華", address="sewer@pwb.kcg.gov.tw",
                   attachments=[("下水道處.xlsx", books["SEW"])])
    mf.write_mbox(root / "七月" / "收件匣.mbox", [mf.webmail(books["NCE"], "新工處.xlsx", sender="nce@pwb.kcg.gov.tw",
                                                           message_id="<nce@x>")])
    mf.write_maildir(root / "七月" / "Maildir", [mf.no_type(books["PLN"])])
    (root / "說明.txt").write_text("not mail", encoding="utf-8")
    result = run(root)
    assert sorted(a.saved_as for m in result.messages for a in m.attachments) == [
        "1020628_下水道處_下水道處.xlsx", "1020628_企劃科_workplan.xlsx", "1020628_新工處_新工處.xlsx",
        "1020628_養工處_養工處.xlsx"]
    assert not result.has_problems and len(result.messages) == 4


def test_missing_source_is_one_line_and_the_rest_is_ingested(tmp_path, books):
    from click.testing import CliRunner

    from conftest import CONFIG
    from qos_xl.cli import cli

    mail = tmp_path / "a.eml"
    mail.write_bytes(mf.webmail(books["MNT"], "養工處.xlsx"))
    args = ["ingest", "--config", str(CONFIG), "--inbox", str(tmp_path / "inbox"), "--receipts", str(tmp_path / "r"),
            str(tmp_path / "沒有這封.eml"), str(mail)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "✔ 已存入 養工處.xlsx" in result.output
    lines = [line for line in result.output.splitlines() if "沒有這封.eml" in line]
    assert lines == [f"找不到 1 個來源，未處理（請確認路徑是否正確）：{tmp_path / '沒有這封.eml'}"]


def test_receipts_inside_the_inbox_are_refused_before_anything_is_saved(tmp_path, books):
    """Receipts in the inbox would be read as submissions by the next merge: the run says so and saves nothing."""
    from click.testing import CliRunner

    from conftest import CONFIG
    from qos_xl.cli import cli

    mail = tmp_path / "a.eml"
    mail.write_bytes(mf.webmail(books["MNT"], "養工處.xlsx"))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    args = ["ingest", "--config", str(CONFIG), "--inbox", str(inbox), "--receipts", str(inbox / "回覆"), str(mail)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert f"回覆文字資料夾 {inbox / '回覆'} 不可位於收件匣 {inbox} 之內，否則下次彙整會把回覆文字當成繳交檔案。" in result.output
    assert list(inbox.iterdir()) == []


def test_content_decides_the_format_of_a_source(run, books):
    as_msg = run.write(mf.webmail(books["MNT"], "養工處.xlsx"), "原信.msg")                 # RFC 822 named .msg
    with_bom = run.write(b"\xef\xbb\xbf" + mf.webmail(books["SEW"], "下水道處.xlsx", message_id="<bom@x>"), "b.eml")
    box = mf.write_mbox(run.tmp / "box" / "匯出.txt", [mf.webmail(books["NCE"], "新工處.xlsx", message_id="<m1@x>"),
                                                       mf.plain(message_id="<m2@x>")])
    bom_box = run.write(b"\xef\xbb\xbf" + box.read_bytes(), "bom.mbox")
    outlook = mf.outlook_msg(run.tmp / "outlook.eml", subject="s", sender_name="王小明", address="mnt@pwb.kcg.gov.tw",
                             attachments=[("PLN.xlsx", books["PLN"])])                       # a .msg named .eml
    workbook = run.write(books["BLD"], "建管處.eml")
    old_excel = run.write(mf.ole_file({"Workbook": bytes(4096)}), "舊版.msg")
    result = run(as_msg, with_bom, box, bom_box, outlook, workbook, old_excel)
    saved = [[a.name for a in m.attachments] for m in result.messages]
    assert saved == [["養工處.xlsx"], ["下水道處.xlsx"], ["新工處.xlsx"], [], ["新工處.xlsx"], [], ["PLN.xlsx"], [], []]
    assert [m.source for m in result.messages][2:6] == [f"{box}#1", f"{box}#2", f"{bom_box}#1", f"{bom_box}#2"]
    assert result.messages[-2].reason.startswith("無法辨識為電子郵件：這是 ZIP 格式的檔案")
    assert result.messages[-1].reason.startswith("無法辨識為電子郵件（內容看起來是Excel 97-2003 活頁簿（.xls））")


def test_award_applications_and_word_work_plans_are_saved(run, books):
    """Documents that are submissions are saved like spreadsheets; other documents are listed once."""
    award_pdf = run.write(mf.with_attachment(PDF, "養工處_服務品質獎參獎申請書.pdf", "application/pdf", message_id="<a1@x>"))
    by_subject = run.write(mf.with_attachment(DOCX, "附件一.docx", "application/octet-stream",
                                              subject="102年度政府服務品質獎申請資料", message_id="<a2@x>"))
    word_plan = run.write(mf.with_attachment(ODT, "企劃科工作計畫.odt", "application/vnd.oasis.opendocument.text",
                                             sender="planning@pwb.kcg.gov.tw", message_id="<a3@x>"))
    minutes = run.write(mf.with_attachment(DOCX, "會議紀錄.docx", "application/octet-stream", message_id="<a4@x>"))
    result = run(award_pdf, by_subject, word_plan, minutes)
    kept = [[(a.kind, a.state, a.saved_as) for a in m.attachments] for m in result.messages]
    assert kept == [[("document", "saved", "1020628_養工處_養工處_服務品質獎參獎申請書.pdf")],
                    [("document", "saved", "1020628_養工處_附件一.docx")],
                    [("document", "saved", "1020628_企劃科_企劃科工作計畫.odt")], []]
    assert (run.inbox / "1020628_養工處_附件一.docx").read_bytes() == DOCX
    assert result.messages[3].others == ["會議紀錄.docx：Word 文件（.docx）"]
    rows = {row.saved_as: row for row in read_ledger(run.inbox).values()}
    assert rows["1020628_養工處_附件一.docx"].subject == "102年度政府服務品質獎申請資料"   # the pipeline recognises it by this
    text = receipt(result.messages[1])
    assert "共 1 個檔案，處理結果如下。" in text and "存檔名稱：1020628_養工處_附件一.docx" in text
    # an award application named only by the mail's subject is recognised in the receipt too (from the ledger)
    pdf_subject = run.write(mf.with_attachment(PDF + b"% 2\n", "附件一.pdf", "application/pdf",
                                               subject="102年度政府服務品質獎申請資料", message_id="<a5@x>"))
    text = receipt(run(pdf_subject).messages[0])
    assert "內容：養護工程處，參獎申請書，102-08" in text and "檢核結果：檢核通過，已收件" in text
    # a damaged Word file: resend it, with no 填報日期 to update (documents have none)
    text = receipt(result.messages[1])
    assert "檢核未通過" in text and "請依上列說明修正後重新寄送（檔名不拘）。" in text and "填報日期" not in text


def test_other_archives_are_one_line_each_and_not_a_failure(tmp_path, books):
    from click.testing import CliRunner

    from conftest import CONFIG
    from qos_xl.cli import cli

    forty_one = mf.zip_bytes({f"照片{i:02d}.txt": b"x" for i in range(41)})
    mixed = mf.zip_bytes({"養工處.xlsx": books["MNT"], **{f"附件{i}.txt": b"y" for i in range(5)}})
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "a.eml").write_bytes(mf.with_attachment(b"BZh91AY&SY" + bytes(40), "foo.txt.bz2", "application/octet-stream"))
    (mail / "b.eml").write_bytes(mf.with_attachment(b"\x1f\x8b\x08\x00" + bytes(20), "blah.gz", "application/x-gzip",
                                                    message_id="<b@x>"))
    (mail / "c.eml").write_bytes(mf.with_attachment(b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(30), "資料.zip", message_id="<c@x>"))
    (mail / "d.eml").write_bytes(mf.with_attachment(forty_one, "照片.zip", message_id="<d@x>"))
    (mail / "e.eml").write_bytes(mf.with_attachment(mixed, "繳交.zip", message_id="<e@x>"))
    receipts = tmp_path / "receipts"
    args = ["ingest", "--config", str(CONFIG), "--inbox", str(tmp_path / "inbox"), "--receipts", str(receipts),
            "--json", str(mail)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.output)
    assert data["receipts_dir"] == str(receipts)                    # where the receipts went, and each one
    assert sorted(m["receipt"] for m in data["messages"]) == sorted(str(p) for p in receipts.iterdir())
    others = [m["other_attachments"] for m in data["messages"]]
    assert others == [
        ["foo.txt.bz2：bzip2 壓縮檔（.bz2），本室無法開啟；如內含自行檢核表或工作計畫，請直接附上檔案，或改用 .zip 壓縮後重新寄送"],
        ["blah.gz：gzip 壓縮檔（.gz），本室無法開啟；如內含自行檢核表或工作計畫，請直接附上檔案，或改用 .zip 壓縮後重新寄送"],
        ["資料.zip：7-Zip 壓縮檔（.7z），本室無法開啟；如內含自行檢核表或工作計畫，請直接附上檔案，或改用 .zip 壓縮後重新寄送"],
        ["照片.zip：ZIP 壓縮檔，內含 41 個檔案，沒有試算表或申請文件"],
        ["繳交.zip 內另有 5 個其他檔案：附件0.txt、附件1.txt、附件2.txt 等"]]
    (forty,) = [p for p in receipts.iterdir() if "照片.zip" in p.read_text(encoding="utf-8")]
    text = forty.read_text(encoding="utf-8")
    assert "其他附件（1 個，不是試算表或參獎申請書，未存入收件匣）：\n- 照片.zip：ZIP 壓縮檔，內含 41 個檔案" in text
    assert "照片00.txt" not in text and "郵件中沒有試算表" in text.splitlines()[2]
    printed = CliRunner().invoke(cli, args[:-2] + [str(mail)]).output.splitlines()   # again, as text: already in
    assert printed[-2].startswith("共 5 封郵件：存入 0 個檔案，已在收件匣 1 個，未存檔 0 個，"
                                  "其他附件 5 個（不是試算表或參獎申請書，未存入收件匣），無法讀取的郵件 0 封。")
    assert printed[-1].startswith("提醒：回覆文字中沒有補件期限")      # the test config leaves the settings blank


def test_undecodable_name_becomes_the_unit_and_a_short_hash(run, books):
    message = only(run(run.write(mf.raw_filename(books["MNT"], b"\xff\xfe\xfd\xfc.xlsx"))))
    (att,) = message.attachments
    assert "\ufffd" in att.name and att.saved_as == f"1020628_養工處_{att.sha256[:8]}.xlsx"
    latin = only(run(run.write(mf.raw_filename(books["SEW"], "Übersicht_Prüfung.xlsx".encode("latin-1"),
                                               text_charset="iso-8859-1", message_id="<latin@x>"))))
    assert [a.saved_as for a in latin.attachments] == ["1020628_養工處_Übersicht_Prüfung.xlsx"]
    cut = only(run(run.write(mf.raw_filename(books["NCE"], "下水道處自行檢核表".encode()[:-2], message_id="<cut@x>"))))
    assert [a.saved_as for a in cut.attachments] == ["1020628_養工處_下水道處自行檢核.xlsx"]
    assert not any("\ufffd" in p.name for p in run.inbox.iterdir())


def test_outlook_display_name_with_a_comma_is_kept_whole(run, books):
    path = mf.outlook_msg(run.tmp / "a.msg", subject="Report", sender_name="Wang, Zhuo D.", address="",
                          attachments=[("a.xlsx", books["MNT"])])
    message = only(run(path))
    assert message.sender == "Wang, Zhuo D." and message.unit == "未知寄件者"
    assert receipt(message).startswith("Wang, Zhuo D. 您好：\n")


def test_messages_are_bounded_before_they_are_parsed(run, books, monkeypatch):
    from qos_xl.intake.mail import sources

    parts = b"".join(b"--xx\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(sources.MAX_MIME_PARTS + 1))
    many = run.write(b"From: mnt@pwb.kcg.gov.tw\r\nSubject: many\r\nContent-Type: multipart/mixed; boundary=xx\r\n\r\n"
                     + parts + b"--xx--\r\n")
    inner = run.write(mf.with_attachment(b"From: a@b.c\r\nSubject: x\r\n\r\n" + parts, "原信.eml", "message/rfc822",
                                         message_id="<inner@x>"))
    first, second = run(many, inner).messages
    assert first.reason == sources.TOO_MANY_PARTS
    assert [(a.name, a.state, a.reason) for a in second.attachments] == [("原信.eml", "rejected", sources.TOO_MANY_PARTS)]
    big = run.write(mf.webmail(books["MNT"], "養工處.xlsx", message_id="<big@x>"))
    monkeypatch.setattr(sources, "MAX_MESSAGE_BYTES", 20_000)
    assert big.stat().st_size > 20_000
    assert only(run(big)).reason == "郵件超過 20 KB 上限，未讀取。請把附件另存後直接放入收件匣。"
    assert run.inbox_names() == []


def test_two_ingests_never_write_one_inbox_at_once(tmp_path, books, monkeypatch):
    from click.testing import CliRunner

    from conftest import CONFIG
    from qos_xl.cli import cli
    from qos_xl.core import files

    mail = tmp_path / "a.eml"
    mail.write_bytes(mf.webmail(books["MNT"], "養工處.xlsx"))
    inbox = tmp_path / "inbox"
    monkeypatch.setattr(files, "LOCK_WAIT_SECONDS", 0.2)
    args = ["ingest", "--config", str(CONFIG), "--inbox", str(inbox), "--receipts", str(tmp_path / "r"), str(mail)]
    with files.folder_lock(inbox):         # another ingest, here: this test
        busy = CliRunner().invoke(cli, args)
    assert isinstance(busy.exception, files.OutputError) and busy.exception.code == "output-busy"
    assert sorted(p.name for p in inbox.iterdir()) == []
    assert CliRunner().invoke(cli, args).exit_code == 0 and "1020628_養工處_養工處.xlsx" in [p.name for p in inbox.iterdir()]


def test_files_are_written_with_the_users_umask(tmp_path, books):
    """A clerk whose umask is 027: the saved attachment, the ledger and the receipt are rw-r----- (the mode is
    taken when the program starts, so the program is started with that umask, as the clerk starts it)."""
    import subprocess

    from conftest import CONFIG

    mail = tmp_path / "a.eml"
    mail.write_bytes(mf.webmail(books["MNT"], "養工處.xlsx"))
    inbox, receipts = tmp_path / "inbox", tmp_path / "receipts"
    run = subprocess.run([sys.executable, "-m", "qos_xl", "ingest", "--config", str(CONFIG), "--inbox", str(inbox),
                          "--receipts", str(receipts), str(mail)], capture_output=True, text=True, timeout=300,
                         preexec_fn=lambda: os.umask(0o027))
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in inbox.iterdir()) == sorted(["1020628_養工處_養工處.xlsx", LEDGER_NAME])
    assert len(list(receipts.iterdir())) == 1
    written = [*inbox.iterdir(), *receipts.iterdir()]
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written} == {p.name: oct(0o640) for p in written}


# -- pieces --------------------------------------------------------------------------------


def test_safe_filename():
    assert safe_filename("..\\..\\windows/system32:evil\x00.xlsx") == "_.._windows_system32_evil.xlsx"
    long = safe_filename("檢" * 400 + ".xlsx")
    assert long.endswith(".xlsx") and len(long) <= 150 and len(long.encode()) <= 180
    assert safe_filename("a\u202egpj.xlsx") == "a_gpj.xlsx"
    assert format_roc(dt.date(2013, 6, 28), compact=True) == "1020628"


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
    assert "沒有試算表或參獎申請書附件" in result.output
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

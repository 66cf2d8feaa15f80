"""Award applications and other documents (issue 13 item 2): recognised, sniffed, given to a unit, listed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import docx
import openpyxl
import pytest

import builders
import hostile
from qos_xl.intake import ledger
from qos_xl.output import consolidated
from qos_xl.pipeline.validate import validate_paths

PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\nstartxref\n0\n%%EOF\n")
ENCRYPTED_PDF = PDF.replace(b"<< /Root 1 0 R >>", b"<< /Root 1 0 R /Encrypt 3 0 R /ID [<01><01>] >>")


def pdf(path: Path, data: bytes = PDF) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def word(path: Path, text: str = "政府服務品質獎參獎申請書") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = docx.Document()
    document.add_paragraph(text)
    document.save(path)
    return path


def reports(folder, plan, registry) -> dict:
    return {r.file: r for r in validate_paths([folder], plan, registry).files}


def test_named_award_applications_are_accepted_and_given_to_their_unit(tmp_path, plan, registry):
    inbox = tmp_path / "inbox"
    pdf(inbox / "養工處_政府服務品質獎參獎申請書.pdf")
    word(inbox / "水工處-服務品質獎申請資料.docx")                 # an alias (水工處) and 服務品質獎
    word(inbox / "高雄市政府工務局建築管理處申請書.docx")           # the full name, with the bureau's
    found = reports(inbox, plan, registry)
    assert {name: (r.state, r.form, r.unit_code, r.period, r.problems)
            for name, r in found.items()} == {
        "養工處_政府服務品質獎參獎申請書.pdf": ("accepted", "award", "MNT", "102-08", ()),
        "水工處-服務品質獎申請資料.docx": ("accepted", "award", "SEW", "102-08", ()),
        "高雄市政府工務局建築管理處申請書.docx": ("accepted", "award", "BLD", "102-08", ()),
    }
    assert found["養工處_政府服務品質獎參獎申請書.pdf"].unit == "養護工程處"
    assert found["水工處-服務品質獎申請資料.docx"].to_dict()["form"] == "award"


def test_the_ledger_subject_and_sender_recognise_and_place_a_document(tmp_path, plan, registry):
    inbox = tmp_path / "inbox"
    by_subject = pdf(inbox / "附件一.pdf")
    by_domain = word(inbox / "資料.docx", "本處服務績效")
    unknown_sender = pdf(inbox / "附件二.pdf", PDF + b"\n% another file\n%%EOF\n")

    def row(path, sender, subject, unit_code=""):
        ledger.append(inbox, {"sender": sender, "subject": subject, "saved_as": path.name, "unit_code": unit_code,
                              "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})

    row(by_subject, "王小明 <nce@pwb.kcg.gov.tw>", "新工處 102年政府服務品質獎參獎", unit_code="NCE")
    row(by_domain, "clerk@mnt.kcg.gov.tw", "轉寄：參獎申請書")          # no unit code recorded: the address decides
    row(unknown_sender, "someone@example.com", "服務品質獎 申請書")
    found = reports(inbox, plan, registry)
    assert (found["附件一.pdf"].state, found["附件一.pdf"].form, found["附件一.pdf"].unit_code) == ("accepted", "award", "NCE")
    assert (found["資料.docx"].state, found["資料.docx"].form, found["資料.docx"].unit_code) == ("accepted", "award", "MNT")
    stray = found["附件二.pdf"]
    assert (stray.state, stray.form, stray.unit_code) == ("rejected", "award", None)
    assert [p.code for p in stray.problems] == ["award-unit-unknown"]
    assert "請在檔名寫上貴單位名稱" in stray.problems[0].message


@pytest.mark.parametrize("name, build, code, words", [
    ("養工處參獎申請書.pdf", lambda p: pdf(p, b""), "file-empty", "空的"),
    ("養工處參獎申請書.pdf", lambda p: hostile.write_members(p, {"a.txt": b"hello"}), "document-not-readable", "ZIP 壓縮檔"),
    ("養工處參獎申請書.pdf", lambda p: pdf(p, ENCRYPTED_PDF), "document-encrypted", "密碼"),
    ("養工處參獎申請書.pdf", lambda p: pdf(p, PDF[:-7]), "document-corrupt", "不完整"),
    ("養工處參獎申請書.pdf", lambda p: word(p), "document-misnamed", ".docx"),
    ("養工處參獎申請書.docx", lambda p: hostile.encrypted_ooxml(p.parent).rename(p), "document-encrypted", "Word"),
    ("養工處參獎申請書.doc", lambda p: hostile.word97(p.parent, p.name, encrypted=True), "document-encrypted", "密碼"),
    ("養工處參獎申請書.odt", lambda p: hostile.write_members(p, {
        "mimetype": b"application/vnd.oasis.opendocument.text",
        "META-INF/manifest.xml": b"<?xml version='1.0'?><manifest:manifest xmlns:manifest='urn:oasis:names:tc:opendocument:"
                                 b"xmlns:manifest:1.0'><manifest:file-entry manifest:full-path='content.xml'>"
                                 b"<manifest:encryption-data/></manifest:file-entry></manifest:manifest>",
        "content.xml": b"\x93\x11"}), "document-encrypted", "密碼"),
    ("養工處參獎申請書.docx", lambda p: hostile.write_members(p, {
        "[Content_Types].xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Types/>',
        "word/document.xml": b"<w:document/>"}), "xml-unsafe", "DOCTYPE"),
])
def test_each_sniff_rejection_has_a_reason(tmp_path, plan, registry, name, build, code, words):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    build(inbox / name)
    [report] = reports(inbox, plan, registry).values()
    assert (report.state, report.form, report.unit_code, report.period) == ("rejected", "award", "MNT", "102-08")
    assert [p.code for p in report.problems] == [code]
    assert words in report.problems[0].message


def test_valid_word_and_odt_awards_are_accepted(tmp_path, plan, registry):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hostile.write_members(inbox / "新工處參獎申請書.odt", {
        "mimetype": b"application/vnd.oasis.opendocument.text",
        "META-INF/manifest.xml": b"<?xml version='1.0'?><manifest:manifest xmlns:manifest="
                                 b"'urn:oasis:names:tc:opendocument:xmlns:manifest:1.0'/>",
        "content.xml": b"<?xml version='1.0'?><office:document-content/>"})
    hostile.word97(inbox, "建管處參獎申請書.doc")
    found = reports(inbox, plan, registry)
    assert {n: (r.state, r.form, r.unit_code, r.document) for n, r in found.items()} == {
        "新工處參獎申請書.odt": ("accepted", "award", "NCE", "odt"),
        "建管處參獎申請書.doc": ("accepted", "award", "BLD", "doc"),
    }


def test_a_spreadsheet_named_like_an_award_is_read_as_a_spreadsheet(tmp_path, plan, registry):
    inbox = tmp_path / "inbox"
    sheet = builders.selfcheck(tmp_path / "src", plan, registry, unit="MNT")
    inbox.mkdir()
    builders.copy(sheet, inbox / "養工處參獎申請書.pdf")
    [report] = reports(inbox, plan, registry).values()
    assert (report.state, report.form, report.period, report.document) == ("accepted", "selfcheck", "102-06", None)


def test_documents_that_are_neither_say_what_to_send(tmp_path, plan, registry):
    inbox = tmp_path / "inbox"
    pdf(inbox / "會議紀錄.pdf")
    word(inbox / "說明.docx", "會議紀錄")
    hostile.docx_renamed(inbox)                                        # report.xlsx, a Word document inside
    found = reports(inbox, plan, registry)
    for name in ("會議紀錄.pdf", "說明.docx", "report.xlsx"):
        report = found[name]
        assert (report.state, report.form) == ("rejected", None)
        assert [p.code for p in report.problems] == ["document-unrecognised"]
        assert "參獎申請書" in report.problems[0].message and "工作計畫" in report.problems[0].message
    assert "PDF 文件" in found["會議紀錄.pdf"].problems[0].message


def test_a_merge_lists_award_applications_in_the_intake_log(tmp_path, plan, registry):
    from qos_xl.core.values import Period
    from qos_xl.pipeline.merge import merge

    inbox = tmp_path / "inbox"
    pdf(inbox / "養工處_參獎申請書.pdf")
    builders.selfcheck(inbox, plan, registry, unit="MNT")
    result = merge(inbox, plan, registry, Period(102, 6))
    award = next(f for f in result.files if f.file == "養工處_參獎申請書.pdf")
    assert (award.form, award.unit, award.unit_code, award.period, award.state) == \
           ("award", "養護工程處", "MNT", "102-08", "other-period")
    august = merge(inbox, plan, registry, Period(102, 8))
    assert next(f for f in august.files if f.file == "養工處_參獎申請書.pdf").state == "accepted"
    log = openpyxl.load_workbook(consolidated.write_consolidated(result, tmp_path / "book.xlsx"))["收件紀錄"]
    assert any("養工處_參獎申請書.pdf" in [c.value for c in row] for row in log.iter_rows(min_row=2))


def test_the_demo_documents_are_accepted(tmp_path, plan, registry):
    import importlib.util

    spec = importlib.util.spec_from_file_location("demo_documents", Path(__file__).parents[1] / "scripts" / "demo_documents.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    inbox = tmp_path / "inbox"
    demo.word_workplan(inbox / "建管處_工作計畫(Word版).docx", plan, registry, registry.by_code("BLD"))
    demo.award_pdf(inbox / "養工處_政府服務品質獎參獎申請書.pdf", registry.by_code("MNT"))
    demo.award_docx(inbox / "新工處_參獎申請書.docx", registry.by_code("NCE"))
    found = reports(inbox, plan, registry)
    assert {n: (r.state, r.form, r.unit_code, r.period, r.problems) for n, r in found.items()} == {
        "建管處_工作計畫(Word版).docx": ("accepted", "workplan", "BLD", "102", ()),
        "養工處_政府服務品質獎參獎申請書.pdf": ("accepted", "award", "MNT", "102-08", ()),
        "新工處_參獎申請書.docx": ("accepted", "award", "NCE", "102-08", ()),
    }

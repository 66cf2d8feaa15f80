"""What a part of a message is, and how its headers read: the pieces of mail intake, on real shapes."""

from __future__ import annotations

import base64
import email
import email.policy

import pytest

import builders
import mail_fixtures as mf
from qos_xl.intake.mail.attachments import What, classify
from qos_xl.intake.mail.headers import Decoder, decode_raw, display_and_address


@pytest.fixture(scope="module")
def book(tmp_path_factory, plan, registry) -> bytes:
    """A real filled self-check, as bytes."""
    return builders.selfcheck(tmp_path_factory.mktemp("book") / "mnt", plan, registry, unit="MNT").read_bytes()


# -- headers -------------------------------------------------------------------------------


def header(raw: bytes, name: str = "Subject", declared: bytes = b"") -> str:
    """One header of a message as ingest reads it; ``declared`` adds header lines (a charset the message declares)."""
    msg = email.message_from_bytes(name.encode() + b": " + raw + b"\r\n" + declared + b"\r\nbody\r\n",
                                   policy=email.policy.default)
    return Decoder.for_message(msg).text(msg, name)


LATIN1 = b"Content-Type: text/plain; charset=iso-8859-1\r\n"


@pytest.mark.parametrize("raw, expected, declared", [
    (mf.b_word("養工處自行檢核表").encode(), "養工處自行檢核表", b""),
    (b"=?big5?B?" + base64.b64encode("碁銹裏墻".encode("cp950")) + b"?=", "碁銹裏墻", b""),  # ETEN: cp950 only
    (b"=?cp950?Q?" + "".join(f"={b:02X}" for b in "檢核".encode("cp950")).encode() + b"?=", "檢核", b""),
    (b"=?UTF-8?B?" + base64.b64encode("養工".encode()) + b"?= =?UTF-8?B?" + base64.b64encode("處".encode()) + b"?=",
     "養工處", b""),
    (b"=?big5?B?" + base64.b64encode("養".encode("cp950")[:1]) + b"?==?big5?B?"   # a character split in two words
     + base64.b64encode("養".encode("cp950")[1:] + "工".encode("cp950")) + b"?=", "養工", b""),
    (b"=?gb2312?B?" + base64.b64encode("陶喆".encode("gbk")) + b"?=", "陶喆", b""),   # 喆 is GBK, not GB2312
    ("FW: 進度\r\n\t報告".encode(), "FW: 進度 報告", b""),
    (b"=?big5?B?!!!?=", "", b""),  # broken base64: nothing readable, and no crash
    (b"=?no-such-charset?Q?abc?=", "abc", b""),
    # raw 8-bit bytes: UTF-8, else a charset the message declares, else Big5 (cp950)
    ("下水道處自行檢核表".encode("cp950"), "下水道處自行檢核表", b""),
    ("下水道處自行檢核表".encode("cp950"), "下水道處自行檢核表", b"Content-Type: text/plain; charset=big5\r\n"),
    ("Die Hasen und die Frösche".encode("latin-1"), "Die Hasen und die Frösche", LATIN1),
    ("Formação".encode("latin-1"), "Formação", b"From: =?Windows-1252?B?Rm9ybWHn428=?= <info@x.example>\r\n"),
    # a declared charset that cannot read raw bytes (stateful, not ASCII-based) is passed over
    ("下水道處".encode("cp950"), "下水道處", b"Content-Type: text/plain; charset=iso-2022-jp\r\n"),
    ("下水道處".encode()[:-1], "下水道", b""),                  # UTF-8 cut mid-character: the cut one dropped
    ("Юникод запрещен".encode() + b"\xf1", "Юникод запрещен", b""),   # a bad last byte: Cyrillic stays
    ("Юникод".encode() + b"\xf1" + "запрещен".encode(), "Юникод\ufffdзапрещен", b""),   # in the middle: replaced
    (b"=?iso-8859-1?Q?Die_Hasen_und_die_Fr\xf6sche?=", "Die Hasen und die Frösche", b""),  # raw byte in a word
    # ISO-2022-JP with an NEC extension character (row 13: №), and a space before an encoded word
    (b"=?iso-2022-jp?B?GyRCJygnJS1iGyhCNDEgGyRCJ2AnZBsoQiAyOC4wOS4yMDE2?=", "ЖД№41 от 28.09.2016", b""),
    (b"Re: TEST\r\n \r\n\t=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\r\n  =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=",
     "Re: TEST テストテスト", b""),
])
def test_header_decoding(raw, expected, declared):
    assert header(raw, declared=declared) == expected


def test_raw_bytes_decoding_order():
    assert decode_raw("Übersicht_Prüfung".encode("latin-1")) == "\ufffdbersicht_Pr\ufffdfung"   # nothing fits
    assert decode_raw("Übersicht_Prüfung".encode("latin-1"), ("iso8859-1",)) == "Übersicht_Prüfung"
    big5 = "碁銹裏墻".encode("cp950")
    assert decode_raw(big5, ("iso8859-1",)) == big5.decode("latin-1")   # a charset the message declares outranks Big5
    assert decode_raw("工作計畫".encode("cp950")[:-1]) == "工作計"                        # Big5 cut mid-character
    assert decode_raw("Café".encode("latin-1")) == "Caf\ufffd"    # one cut byte and nothing else: not trusted
    broken_big5 = "下水道處".encode("cp950") + b"\xff" + "自行檢核表".encode("cp950")
    assert decode_raw(broken_big5) == "下水道處\ufffd自行檢核表"      # Big5 with one bad byte: still read as Big5


@pytest.mark.parametrize("raw, expected", [
    (b'"Wang, Zhuo D." <wang@example.com>', ("Wang, Zhuo D.", "wang@example.com")),
    ('"{}" <mnt@pwb.kcg.gov.tw>'.format(mf.b_word("養工處 王小明")).encode(), ("養工處 王小明", "mnt@pwb.kcg.gov.tw")),
    ("Юникод запрещен".encode() + b"\xf1 <headers@gmail.com>", ("Юникод запрещен", "headers@gmail.com")),
    (b"mnt@pwb.kcg.gov.tw", ("", "mnt@pwb.kcg.gov.tw")),
    (b"Sender", ("Sender", "")),
])
def test_sender(raw, expected):
    msg = email.message_from_bytes(b"From: " + raw + b"\r\n\r\n", policy=email.policy.default)
    assert Decoder.for_message(msg).sender(msg) == expected


def test_outlook_sender_keeps_a_comma():
    """extract-msg composes ``name <address>`` without quoting the name."""
    assert display_and_address("Wang, Zhuo D.") == ("Wang, Zhuo D.", "")
    assert display_and_address("Wang, Zhuo D. <zhuo.wang@example.com>") == ("Wang, Zhuo D.", "zhuo.wang@example.com")
    assert display_and_address("zhuo.wang@example.com") == ("", "zhuo.wang@example.com")


# -- what a part is ------------------------------------------------------------------------


DOCX = mf.zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
ODT = mf.zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
ODS = mf.zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"})
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOC = mf.ole_file({"WordDocument": b"\0" * 4096})
OCTET = "application/octet-stream"


@pytest.mark.parametrize("name, ctype, data, subject, expected", [
    ("", OCTET, "MNT", "", What("spreadsheet", ".xlsx")),
    ("報表.xls", OCTET, "MNT", "", What("spreadsheet", ".xls")),
    ("data", OCTET, ODS, "", What("spreadsheet", ".ods")),
    ("x.zip", OCTET, mf.zip_bytes({"a.txt": b"a"}), "", What("zip", ".zip")),
    # documents: submissions by name or subject, anything else listed
    ("report.docx", OCTET, DOCX, "", What("other", ".docx", "Word 文件（.docx）")),
    ("養工處_參獎申請書.docx", OCTET, DOCX, "", What("document", ".docx")),
    ("附件.pdf", OCTET, PDF, "政府服務品質獎 參獎資料", What("document", ".pdf")),
    ("申請書.doc", OCTET, DOC, "", What("document", ".doc")),
    ("參獎.odt", OCTET, ODT, "", What("document", ".odt")),
    ("養工處工作計畫.docx", OCTET, DOCX, "", What("document", ".docx")),
    ("附件", OCTET, ODT, "企劃科 102 年度工作計劃", What("document", ".odt")),
    ("工作計畫.pdf", OCTET, PDF, "", What("other", ".pdf", "PDF 文件（.pdf）")),        # a work plan is read from Word only
    ("工作計畫.doc", OCTET, DOC, "", What("other", ".doc", "Word 97-2003 文件（.doc）")),
    # content decides
    ("參獎申請書.xlsx", OCTET, "MNT", "", What("spreadsheet", ".xlsx")),
    ("報表.xlsx", OCTET, PDF, "", What("other", ".xlsx", "PDF 文件（.pdf）")),
    ("報表.xlsx", OCTET, b"garbage", "", What("spreadsheet", ".xlsx")),   # unreadable: validation says why
    ("報表.xlsx", OCTET, mf.ole_file({"EncryptedPackage": b"\0" * 4096}), "", What("spreadsheet", ".xlsx")),
    ("原信.msg", OCTET, b"From: a@b.c\r\nSubject: x\r\n\r\nhi\r\n", "", What("eml", ".eml")),
    ("a.rar", OCTET, b"Rar!\x1a\x07\x00", "", What("other", ".rar", "RAR 壓縮檔（.rar）")),
    ("foo.txt.bz2", OCTET, b"BZh91AY&SY", "", What("other", ".bz2", "bzip2 壓縮檔（.bz2）")),
    ("資料.zip", "application/zip", b"7z\xbc\xaf\x27\x1c\x00\x04", "", What("other", ".zip", "7-Zip 壓縮檔（.7z）")),
    ("資料.csv", "application/vnd.ms-excel", b"a,b\n1,2\n", "", What("other", ".csv", "CSV 文字檔")),
])
def test_classify_by_content(book, name, ctype, data, subject, expected):
    what = classify(name, ctype, book if data == "MNT" else data, subject)
    assert (what.kind, what.suffix) == (expected.kind, expected.suffix)
    assert what.noun.startswith(expected.noun)

"""Documents for the demo inbox: a Word work plan filled in the unit's template, and award applications.

``make_demo_inbox.py`` calls these; each writes one file and returns its path:

- ``word_workplan(path, plan, registry, unit)``: the unit's .docx template, filled as a clerk
  does (a row per area, a second row for the first area, 實施對象 and 考核與獎勵 written);
- ``award_docx(path, unit)``: a short 政府服務品質獎參獎申請書 in Word;
- ``award_pdf(path, unit)``: the same as a one-page PDF (the unit named in ASCII, as a
  scanner's PDF carries no text qos-xl reads anyway).
"""

from __future__ import annotations

from pathlib import Path

from qos_xl.core.catalogue import Plan
from qos_xl.core.registry import Registry, Unit
from qos_xl.output.templates_docx import write_workplan_docx

FOCUS = ["強化櫃台服務禮儀及電話禮貌", "簡化申辦流程並公開辦理進度", "辦理顧客滿意度調查並檢討改善", "即時更新網站資訊及常見問答",
         "推動跨機關整合服務"]
METHODS = ["每季辦理服務禮儀訓練，並不定期進行電話禮貌測試。", "檢討申辦案件流程，於網站公開各案件辦理進度。",
           "每年辦理 1 次滿意度調查，結果於主管會報檢討。", "每月檢視網站內容，更新常見問答。", "與區公所合作辦理聯合服務。"]


def word_workplan(path: Path, plan: Plan, registry: Registry, unit: Unit) -> Path:
    """The unit's Word work plan template, filled: accepted as it is."""

    def fill(document, table, sections):
        for index in range(len(plan.areas)):
            row = 1 + 2 * index
            table.cell(row, 1).text = FOCUS[index % len(FOCUS)]
            table.cell(row, 2).text = METHODS[index % len(METHODS)]
        table.cell(2, 1).text = "落實走動式服務"
        table.cell(2, 2).text = "上班時段安排同仁於洽公大廳主動引導民眾。"
        table.cell(2, 3).text = "自 5 月起"
        sections["audience"].text = f"{unit.name}全體同仁。"
        sections["review"].text = "年終依各課室執行成果辦理考核，績優人員依規定敘獎。"

    write_workplan_docx(Path(path), plan, registry, unit, fill=fill)
    return Path(path)


def award_docx(path: Path, unit: Unit) -> Path:
    """A short award application in Word."""
    from docx import Document

    document = Document()
    document.add_heading(f"{unit.name} 政府服務品質獎參獎申請書", level=1)
    for label, text in (("機關名稱", unit.name), ("參獎類別", "第一線服務機關"),
                        ("服務特色", "整合申辦窗口，推動案件進度線上查詢。")):
        document.add_paragraph(f"{label}：{text}")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    document.save(path)
    return Path(path)


def award_pdf(path: Path, unit: Unit) -> Path:
    """A one-page PDF award application (text in ASCII, offsets computed)."""
    text = f"Service Quality Award application - {unit.code} (demo)".encode("ascii")
    stream = b"BT /F1 14 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
               b"/Contents 4 0 R >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(bytes(out))
    return Path(path)

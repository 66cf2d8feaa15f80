"""The problem catalogue: each code's severity and zh-TW message template, in one place.

A template names what is wrong and what to do; ``problems.make_problem`` fills it in.
"""

from __future__ import annotations

from qos_xl.core.vocabulary import ERROR, WARNING

# the optional parts of templates, empty unless given: a note for a step not due this period
# (``not_due``), the count of further cells read the same way (``others``), the step whose row a
# reading problem is in (``at_step``: 項次 1-2-1：), where a missing step's row belongs (``between``)
OPTIONAL_PARAMS = {"not_due": "", "others": "", "at_step": "", "between": ""}
NOT_DUE_NOTE = "（此步驟本期尚未到查核期限，若本期不填報，也可以清除這一列填寫的內容。）"
OTHERS_NOTE = "（本表另有 {count} 格完成日期也是如此，均已依民國年讀取）"
# ``between``: by the missing step's neighbours in the plan, (has one before, has one after) -> note
BETWEEN_NOTES = {(True, True): "（應在項次 {before} 與 {after} 之間）", (True, False): "（應在項次 {before} 之後）",
                 (False, True): "（應在項次 {after} 之前）"}

# what a good entry looks like, after what each quality hint saw (fixed text: the 品質提示 sheet shows the finding alone)
HINT_ADVICE = {
    "narrative-too-short": "請具體說明辦理了什麼、何時辦理、有何成果，例如「5月修訂櫃台服務流程，並公告於本處網站及服務台」。",
    "narrative-repeated": "請依各項次分別說明實際辦理的內容：做了什麼、何時辦理、有何成果。",
    "narrative-copied": "請以貴單位實際辦理的情形填寫，不要沿用其他單位的文字。",
    "evidence-missing": "請填寫可供查證的資料名稱、文號或網址，例如「服務流程檢討會議紀錄」、「5月10日簽陳」或公告網頁的網址。",
    "plan-area-not-applicable": "請確認「執行狀態」是否正確；如工作計畫已改變，請在「備註」說明原因。",
}

# code: (severity, message template). Templates name what is wrong and what to do.
MESSAGES: dict[str, tuple[str, str]] = {
    # -- the file as a whole ------------------------------------------------------------
    "file-empty": (ERROR, "檔案是空的（0 位元組）。請重新存檔後再寄送。"),
    "file-too-large": (ERROR, "檔案大小 {size} 超過上限 {limit}。請確認附件是否為本局範本，刪除多餘的工作表或圖片後再寄送。"),
    "file-not-spreadsheet": (ERROR, "這個檔案不是試算表（內容看起來是{detected}）。請用 Excel 或 LibreOffice 開啟本局範本填寫，另存為 .xlsx 後再寄送。"),
    "file-corrupt": (ERROR, "檔案已損毀，無法開啟（{detail}）。請在 Excel 或 LibreOffice 重新開啟並另存為 .xlsx 後再寄送。"),
    "file-encrypted": (ERROR, "檔案設有密碼保護，無法讀取。請在 Excel 移除密碼（檔案 → 資訊 → 保護活頁簿 → 以密碼加密，清空密碼）後再寄送。"),
    "archive-too-large": (ERROR, "檔案解壓縮後異常龐大（{detail}），疑似惡意或損毀的檔案，已拒收。請以本局範本重新填寫後再寄送。"),
    "archive-invalid": (ERROR, "檔案內部結構異常（{detail}），疑似惡意或損毀的檔案，已拒收。請以本局範本重新填寫後再寄送。"),
    "xml-unsafe": (ERROR, "檔案內含不允許的 XML 宣告（{detail}），疑似惡意檔案，已拒收。請以本局範本重新填寫後再寄送。"),
    "format-unreadable": (ERROR, "無法讀取 {format} 格式的檔案（{detail}）。請用 Excel 或 LibreOffice 開啟後另存為 .xlsx 再寄送。"),
    "sheet-too-large": (ERROR, "工作表「{sheet}」的資料範圍過大（{detail}），請刪除表格以外的多餘資料後再寄送。"),
    "macro-ignored": (WARNING, "檔案含有巨集（VBA）。qos-xl 只讀取內容，不會執行也不會保留巨集；下次請另存為不含巨集的格式（試算表 .xlsx、Word 文件 .docx）。"),
    # -- documents (Word, PDF, OpenDocument) -------------------------------------------------
    "document-encrypted": (ERROR, "這份{kind}設有密碼保護，無法開啟。請移除密碼（Word：檔案 → 資訊 → 保護文件 → 以密碼加密，清空密碼；PDF：取消開啟密碼）後再寄送。"),
    "document-corrupt": (ERROR, "這份{kind}已損毀，無法開啟（{detail}）。請重新存檔（或重新轉成 PDF）後再寄送。"),
    "document-not-readable": (ERROR, "檔名看起來是{claimed}，但內容是{detected}，無法開啟。請確認附件是否正確，重新存檔後再寄送。"),
    "document-misnamed": (ERROR, "檔名的副檔名是 {suffix}，但內容是{kind}，收件者開啟時會失敗。請將副檔名改為 {right}（或以正確格式另存）後再寄送。"),
    "document-unrecognised": (ERROR, "這份{kind}看不出是工作計畫或參獎申請書。工作計畫請用本局範本（試算表或 Word）填寫；參獎申請書請在檔名寫上「參獎申請書」及貴單位名稱後再寄送。"),
    "document-doc": (ERROR, "這是 Word 97-2003 文件（.doc），無法讀取其中的工作計畫表格。工作計畫請在 Word 另存為 .docx（檔案 → 另存新檔 → Word 文件）後再寄送；若是參獎申請書，請在檔名寫上「參獎申請書」及貴單位名稱後再寄送。"),
    "document-odt": (ERROR, "這是 OpenDocument 文字文件（.odt），無法讀取其中的工作計畫表格。工作計畫請另存為 Word 文件（.docx）或改用本局試算表範本後再寄送；若是參獎申請書，請在檔名寫上「參獎申請書」及貴單位名稱後再寄送。"),
    "award-unit-unknown": (ERROR, "無法判斷這份參獎申請書是哪個單位的：檔名沒有單位名稱，寄件者的電子郵件也不在本局名冊中。請在檔名寫上貴單位名稱（例如「養護工程處_參獎申請書.pdf」）後再寄送。"),
    # -- a Word work plan -------------------------------------------------------------------
    "docx-title-missing": (ERROR, "找不到文件標題（例如「養護工程處102 年度提升服務品質工作計畫」）或「機關全銜：」一行。請在文件第一行寫上貴單位全銜及年度。"),
    "docx-heading-missing": (ERROR, "找不到「{label}」這個標題（例如「壹、計畫依據」）。請使用本局 Word 範本，不要刪改標題文字。"),
    "docx-table-missing": (ERROR, "找不到工作計畫表格（標題列為「實施要項｜工作重點｜工作(推動)方法｜備註」）。請使用本局 Word 範本，不要刪改表格的標題列。"),
    "docx-table-ambiguous": (ERROR, "文件中有 {count} 個工作計畫表格（第 {tables} 個表格），無法判斷以哪一個為準，本次以第一個表格檢核。請只保留一個表格（跨頁的表格請接續在同一個表格中）後再寄送。"),
    # -- finding the form ---------------------------------------------------------------
    "form-unknown": (ERROR, "找不到「自行檢核表」或「工作計畫」的表格標題列。請使用本局提供的範本填寫，不要刪改標題文字。"),
    "label-missing": (ERROR, "找不到「{label}」欄位。請使用本局範本，不要刪改欄位標題文字。"),
    "cell-formula-uncached": (ERROR, "{at_step}這個儲存格是公式，但檔案沒有存下計算結果，無法讀取。請在 Excel 重新計算並存檔，或直接輸入文字或日期。"),
    "cell-error-value": (ERROR, "{at_step}儲存格的內容是錯誤值 {value}。請改填正確的內容。"),
    "merged-cells": (ERROR, "表格中有合併儲存格（{range}）。請取消合併，每一列分別填寫。"),
    "hidden-data": (WARNING, "{what}中有資料，已一併讀取。請確認內容是否正確，不需要的請刪除。"),
    "cell-outside-table": (WARNING, "表格範圍外的儲存格有資料（{value}），未列入彙整。若是誤填請刪除。"),
    # -- header block -------------------------------------------------------------------
    "unit-missing": (ERROR, "「{label}」未填寫。請填入貴單位的機關（單位）全銜。"),
    "unit-unknown": (ERROR, "「{value}」不是本局名冊中的機關（單位）名稱。請填入正確的全銜，例如「{example}」。"),
    "period-missing": (ERROR, "「填報期別」未填寫。請填入 {example} 這樣的期別。"),
    "period-invalid": (ERROR, "「填報期別」的「{value}」無法辨識。請填入 {example} 這樣的期別（民國年-月）。"),
    "period-not-checkpoint": (ERROR, "「填報期別」的「{value}」不是自行檢核的期別。自行檢核只有 {year}-06（6 月期中自行檢核）與 {year}-12（12 月年度執行成果）兩期，請改填其中一期。"),
    "plan-year-mismatch": (ERROR, "這份檔案屬於 {found} 年度，不是本計畫的 {expected} 年度。請使用 {expected} 年度的範本重新填寫。"),
    "report-date-missing": (ERROR, "「填報日期」未填寫。請填入日期，例如 102/6/30。"),
    "report-date-invalid": (ERROR, "「填報日期」的「{value}」不是有效的日期（{detail}）。請以民國年填寫，例如 102/6/30。"),
    "report-date-out-of-period": (ERROR, "「填報日期」{date} 不在 {period} 期的填報期間（{first} 至 {last}）內。"
                                         "請確認年份、月份是否誤植；沿用舊檔案時，請改為本次填報的日期。"),
    "filler-missing": (WARNING, "「{label}」未填寫。請補上，以便聯繫。"),
    "year-missing": (ERROR, "「年度」未填寫。請填入 {expected}。"),
    "year-invalid": (ERROR, "「年度」的「{value}」無法辨識。請填入民國年，例如 {expected}。"),
    "section-empty": (WARNING, "「{label}」未填寫。請補上本段內容。"),
    # -- self-check rows ----------------------------------------------------------------
    "step-unknown": (ERROR, "項次「{value}」不在本年度計畫中。請勿修改項次欄，使用範本原有的項次。"),
    "step-duplicate": (ERROR, "項次「{value}」重複出現。每個項次只能填一列，請刪除重複的列。"),
    "step-missing": (ERROR, "項次 {step} 這一列不見了{between}。本表不可新增列，請改用秘書室寄發的原範本填寫（已填的內容可複製貼上）後再寄送。"),
    "status-missing": (ERROR, "項次 {step} 本期應辦理，「執行狀態」不可空白。請選擇 已完成/辦理中/未辦理/不適用。"),
    "status-not-allowed": (ERROR, "項次 {step} 的執行狀態須為 已完成/辦理中/未辦理/不適用，請從下拉選單選擇。{not_due}"),
    "status-synonym": (WARNING, "項次 {step} 的執行狀態「{value}」已視為「{status}」。下次請從下拉選單選擇。"),
    "narrative-missing": (ERROR, "項次 {step} 的狀態為「{status}」，請在「辦理情形」說明辦理內容。{not_due}"),
    "done-date-missing": (ERROR, "項次 {step} 已完成，請填寫「完成日期」，例如 102/6/30。{not_due}"),
    "date-invalid": (ERROR, "項次 {step} 的「完成日期」「{value}」不是有效的日期（{detail}）。請以民國年填寫，例如 102/6/30。{not_due}"),
    "done-date-after-report": (ERROR, "項次 {step} 的完成日期 {date} 晚於填報日期 {report_date}。請更正完成日期，或將狀態改為「辦理中」。{not_due}"),
    "done-date-before-plan-year": (WARNING, "項次 {step} 的完成日期 {date} 早於 {year} 年度。請確認日期是否正確。"),
    "date-read-as-roc": (WARNING, "{subject}輸入的「{value}」被試算表當成西元 {ad_year} 年的日期存檔，已依民國年讀為 {date}{others}，"
                                  "無須更正。日後請使用本局新範本（日期欄為文字格式，輸入的內容會照原樣保留）。"),
    "reason-missing": (ERROR, "項次 {step} 為「不適用」，請在「辦理情形」或「備註」說明不適用的理由。{not_due}"),
    "status-not-due": (WARNING, "項次 {step} 本期尚未到查核期限（{deadline}），已收下您填寫的狀態，但本期不列入計算。"),
    # -- work-plan rows -----------------------------------------------------------------
    "area-invalid": (ERROR, "實施要項「{value}」不是本計畫的五項之一，或編號與名稱不符。請從下拉選單選擇，或只寫編號，例如「二」。"),
    "area-missing": (ERROR, "這一列有工作內容，但「實施要項」空白。請從下拉選單選擇實施要項。"),
    "work-item-incomplete": (ERROR, "這一列缺少{missing}。每一列都要填寫「工作重點」及「工作(推動)方法」。"),
    "area-uncovered": (ERROR, "實施要項「{area}」沒有任何工作項目。請在表格的空白列選擇此實施要項，並填寫工作重點及工作(推動)方法。"),
    # -- across files (merge) -----------------------------------------------------------
    "same-report-date": (WARNING, "「{other}」與本檔案的填報日期同為 {report_date}，內容卻有 {cells} 個儲存格不同；已以較晚收到的「{kept}」為準，另一份不列入彙整。如應以另一份為準，請更新其「填報日期」後重新寄送。"),
    "sender-unit-mismatch": (WARNING, "寄件者 {sender} 屬於「{sender_unit}」，但檔案填的是「{unit}」。請確認是否代為寄送。"),
    # -- quality hints (warnings, added after the states: never reject a file, never change a rate) --
    **{code: (WARNING, seen + HINT_ADVICE[code]) for code, seen in (
        ("narrative-too-short", "項次 {step} 的「辦理情形」只寫了「{value}」，內容過於簡略（扣除標點符號及執行狀態文字後只有 {count} 個字，"
                                "至少需 {minimum} 個字）。"),
        ("narrative-repeated", "本期應辦理的 {total} 個項次中，有 {count} 個（項次 {steps}）的「辦理情形」都是同一段文字「{value}」。"),
        ("narrative-copied", "項次 {step} 的「辦理情形」與{units}同一項次的內容相同（「{value}」）。"),
        ("evidence-missing", "項次 {step} 為「已完成」，但「佐證資料」沒有填寫可查證的內容。"),
        ("plan-area-not-applicable", "貴單位的工作計畫在「{area}」列有工作項目，但本表此實施要項本期應辦理的 {count} 個項次（{steps}）"
                                     "全部填「不適用」。"),
    )},
}

# rows a file lacks (a deleted step, an area with no row): named at the table's heading cell, which is not where to
# act, so a reply names the sheet alone and the message says where the row belongs
AT_TABLE_HEADING = frozenset({"step-missing", "area-uncovered"})
# a code's template when the cell it names is blank: what the unit did is not what the template says
BLANK_MESSAGES = {
    "step-unknown": "這一列沒有項次：本表不可新增列，請刪除此列；要補充的內容可寫在相關項次的「辦理情形」或「備註」。",
}
# a code's template for a Word work plan, whose table lists the areas in rows of their own and has no dropdown
WORD_MESSAGES = {
    "area-invalid": "實施要項「{value}」不是本計畫的五項之一，或編號與名稱不符。請改寫為範本列出的實施要項，或只寫編號，例如「二」。",
    "area-missing": "這一列有工作內容，但「實施要項」空白。請填寫這一列所屬的實施要項，或只寫編號，例如「二」。",
    "area-uncovered": "實施要項「{area}」沒有任何工作項目。請在表格中此實施要項預留的列填寫工作重點及工作(推動)方法。",
}

# the quality hints, each with its short name for the secretariat (the 品質提示 sheet), in the order they are listed;
# a unit reads them apart from other problems, under 「品質提示（不影響收件）」
HINT_NAMES = {"narrative-too-short": "辦理情形過於簡略", "narrative-repeated": "辦理情形重複使用",
              "narrative-copied": "與他單位內容相同", "evidence-missing": "已完成但無佐證",
              "plan-area-not-applicable": "計畫有列卻不適用"}
QUALITY_HINTS = frozenset(HINT_NAMES)

"""Generate a benchmark set: a registry of N units and one realistic filled self-check each.

    .venv/bin/python bench/generate.py 1000            # -> bench/work/1000/{config,inbox}
    .venv/bin/python bench/generate.py 1000 --check 5  # and validate 5 sample files

Speed: loading and saving the template with openpyxl costs ~0.1 s a file (8 min for
5,000).  Instead ONE real template is produced by ``qos_xl.output.templates.write_templates``
for a sentinel unit, its zip members are read once, and each file is assembled by string
substitution:

* the sentinel unit name / short name / code are replaced in every member that holds
  them (shared strings, workbook defined names, qos_meta, document properties, print
  header), so each file is the template its unit would really have received;
* the input cells of ``自行檢核表`` (C3 when a unit retypes its name, C4 填表人, G4 聯絡電話,
  C5 填報日期, and F..J of the step rows) are written as inline strings (or numbers for
  dates typed into a date cell), each keeping the template cell's style index.

A set is cached under ``bench/work/N/`` and reused when its stamp (generator version,
N, seed, template version, plan and settings hashes) matches.  Everything is drawn from
``random.Random(seed)``: the same N and seed give byte-identical files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
SOURCE_CONFIG = ROOT / "workbooks" / "config"
GENERATOR_VERSION = 5
SEED = 20130628
PERIOD = "102-06"
PLAN_YEAR = 102

# Share of files with a deliberate problem, so that the run exercises rejections and the
# feedback path as a real half-year inbox does.  The rest are valid and clean.
ERROR_SHARE = 0.03     # rejected: one broken rule
WARNING_SHARE = 0.06   # accepted with a warning

SENTINEL_NAME = "QOSBENCHUNITNAME"
SENTINEL_SHORT = "QOSBENCHSHORT"
SENTINEL_CODE = "QOSBENCHCODE"

# --------------------------------------------------------------------------------------
# Word pools


BUREAUS = [  # (full, short)
    ("工務局", "工務"), ("水利局", "水利"), ("都市發展局", "都發"), ("交通局", "交通"), ("環境保護局", "環保"),
    ("經濟發展局", "經發"), ("社會局", "社會"), ("勞工局", "勞工"), ("衛生局", "衛生"), ("教育局", "教育"),
    ("文化局", "文化"), ("觀光局", "觀光"), ("地政局", "地政"), ("財政局", "財政"), ("民政局", "民政"),
    ("海洋局", "海洋"), ("農業局", "農業"), ("運動發展局", "運發"), ("新聞局", "新聞"), ("法制局", "法制"),
    ("警察局", "警察"), ("消防局", "消防"), ("捷運工程局", "捷運"), ("青年局", "青年"),
]
DISTRICTS = [
    "鹽埕", "鼓山", "左營", "楠梓", "三民", "新興", "前金", "苓雅", "前鎮", "旗津", "小港", "鳳山", "林園", "大寮",
    "大樹", "大社", "仁武", "鳥松", "岡山", "橋頭", "燕巢", "田寮", "阿蓮", "路竹", "湖內", "茄萣", "永安", "彌陀",
    "梓官", "旗山", "美濃", "六龜", "甲仙", "杉林", "內門", "茂林", "桃源", "那瑪夏",
]
SECTIONS = [  # 一級單位: (full, short) ...科
    ("綜合企劃", "企劃"), ("工程管理", "工管"), ("行政管理", "行管"), ("資訊管理", "資管"), ("品質管理", "品管"),
    ("勞工安全", "勞安"), ("公共關係", "公關"), ("採購管理", "採購"), ("法制事務", "法務"), ("研究發展", "研發"),
    ("文書檔案", "文書"), ("財務規劃", "財規"), ("土地管理", "土管"), ("建築管理", "建管"), ("使用管理", "使管"),
    ("交通規劃", "交規"),
]
AGENCIES = [  # 所屬機關: (full, short) ...處
    ("養護工程", "養工"), ("新建工程", "新工"), ("下水道工程", "水工"), ("建築管理", "建管"), ("公園管理", "公管"),
    ("路燈工程", "路燈"), ("衛生環境", "衛環"), ("停車管理", "停管"), ("河川管理", "河管"), ("市場管理", "市管"),
    ("清潔", "清潔"), ("區域發展", "區發"),
]
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁趙顏柯翁魏孫戴"
GIVEN = "志明俊傑雅婷淑芬美玲家豪建宏宗翰怡君佳穎冠宇承恩品妤子涵思妤柏翰宜蓁欣怡文彥國華秀琴惠如育誠瑞祥麗娟"

SENTENCES = [
    "已於{m}月{d}日將本年度執行計畫公告於機關網站及服務場所。",
    "依業務特性及顧客需求修訂工作計畫，並簽奉核定在案。",
    "服務台已完成綠美化，並增設哺集乳室及無障礙坡道。",
    "更新各服務項目及承辦人員（含代理人）標示牌，並提供中英雙語標示。",
    "辦理為民服務教育訓練{n}場次，計{p}人參加。",
    "每季辦理電話禮貌測試，本期測試{n}次，平均{s}分。",
    "申辦書表及填寫範例已全面更新並置於網站供民眾下載。",
    "建置線上申辦系統，本期線上申辦案件計{p}件。",
    "人民陳情案件均於期限內答復，平均處理天數{n}天。",
    "辦理顧客滿意度調查，有效問卷{p}份，整體滿意度{s}%。",
    "針對調查結果召開檢討會議，研提改善措施{n}項並列管追蹤。",
    "與{o}建立跨機關聯繫窗口，縮短案件處理流程。",
    "簡化申請應備文件，減少{n}項書證謄本。",
    "於臉書粉絲專頁及機關網站發布施工資訊{p}則。",
    "主動邀請里長及地方人士參與工程說明會，共辦理{n}場。",
    "設置意見箱及1999專線，受理建議案件{p}件，均已回復。",
    "辦理公共工程施工品質抽查{n}件，缺失均已限期改善。",
    "更新網站常見問答（FAQ）{n}則，並定期檢視資料正確性。",
    "本案刻正辦理中，預計{m2}月底前完成。",
    "因預算尚未核定，俟經費到位後即辦理。",
    "已完成需求訪談，目前進行系統測試。",
    "相關資料已彙整陳報，並依長官指示辦理後續事宜。",
    "本處每月召開工作會報檢討執行進度。",
    "配合市府政策推動節能減碳，辦公室用電較去年同期減少{n}%。",
    "辦理檔案清查及電子化作業，完成掃描{p}件。",
    "研擬標準作業流程（SOP）並公告周知同仁。",
    "櫃台服務人員均配戴識別證，並落實一次告知及首長信箱回復機制。",
    "本期獲市府為民服務績效評核「{g}」等第。",
    "結合社區志工辦理宣導活動{n}場，參與民眾約{p}人。",
    "完成服務場所安全檢查，滅火器及緊急照明設備均正常。",
]
ORGS = ["水利局", "都市發展局", "環境保護局", "交通局", "各區公所", "台電公司", "自來水公司", "中華電信", "警察局"]
NA_REASONS = [
    "本處無對外服務櫃台，本項不適用。",
    "本單位業務未涉及民眾申辦案件。",
    "非本單位權責，由秘書室統籌辦理。",
    "本科為內部幕僚單位，無服務場所。",
    "本年度無相關業務。",
]
UNDONE_NOTES = ["", "", "尚未辦理，預計下半年辦理。", "俟上級核定後辦理。", "經費不足，延至明年度辦理。"]
EVIDENCE = [
    "", "", "", "簽到表、照片", "會議紀錄", "網站截圖", "成果報告", "滿意度調查報告",
    "高市工{b}字第102{k}號函", "http://pwb.kcg.gov.tw/Main.aspx?sn={k}", "附件{n}",
]
REMARKS = ["", "", "", "", "", "持續辦理", "詳附件", "併同下半年度辦理", "已陳報市府"]
PHONES = ["07-33683{x:02d} 轉 {e}", "07-3368333#{e}", "(07)7{x:02d}1{e}", "07-799{x:02d}{e}", "0912-{e}{x:02d}8{x:02d}"]
STATUS_WEIGHTS = (("已完成", 62), ("辦理中", 23), ("未辦理", 8), ("不適用", 7))
SYNONYMS = {"已完成": "完成", "辦理中": "進行中", "未辦理": "尚未辦理", "不適用": "N/A"}


# --------------------------------------------------------------------------------------
# Units


@dataclass(frozen=True)
class BenchUnit:
    code: str
    name: str
    short: str
    kind: str


def make_units(n: int, rng: random.Random) -> list[BenchUnit]:
    """N distinct units: codes U0001…, names 高雄市政府<局><區><科/處>, kinds alternating."""
    units: list[BenchUnit] = []
    seen: set[str] = set()
    for i in range(n):
        kind = "一級單位" if i % 2 == 0 else "所屬機關"
        pool, suffix = (SECTIONS, "科") if kind == "一級單位" else (AGENCIES, "處")
        for _ in range(10_000):
            bureau, district, (topic, topic_short) = rng.choice(BUREAUS), rng.choice(DISTRICTS), rng.choice(pool)
            name = f"高雄市政府{bureau[0]}{district}區{topic}{suffix}"
            if name not in seen:
                break
        else:  # pragma: no cover - more units than combinations
            raise SystemExit(f"cannot make {n} distinct unit names")
        seen.add(name)
        short = f"{bureau[1]}{district}{topic_short}{suffix}"
        units.append(BenchUnit(f"U{i + 1:04d}", name, short, kind))
    return units


def write_config(config: Path, units: list[BenchUnit]) -> None:
    config.mkdir(parents=True, exist_ok=True)
    for name in ("plan.csv", "settings.csv"):
        shutil.copyfile(SOURCE_CONFIG / name, config / name)
    lines = ["代碼,機關全銜,簡稱,別名,類別,電子郵件"]
    lines += [f"{u.code},{u.name},{u.short},,{u.kind},{u.code.lower()}@bench.kcg.gov.tw" for u in units]
    (config / "units.csv").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------
# The template, taken apart once


_CELL = re.compile(r'<c r="([A-Z]+)([0-9]+)"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?(?:/>|>.*?</c>)', re.S)


@dataclass
class Template:
    members: list[tuple[zipfile.ZipInfo, bytes]]   # every member but the data sheet, in order
    sheet_name: str                                # the data sheet's member name
    pieces: list[str]                              # sheet XML around the input cells
    slots: list[tuple[str, int | None, str]]       # (cell ref, style, original XML) between the pieces
    first_row: int
    steps: list                                    # catalogue steps, in row order
    cells: dict[str, str]                          # header field -> its value cell ("I2"), as the template places it


def build_template(config: Path) -> Template:
    """The real template for a sentinel unit, split around its input cells."""
    sys.path.insert(0, str(ROOT / "src"))
    from qos_xl.core.catalogue import load_plan
    from qos_xl.core.registry import Registry, Unit
    from qos_xl.output.templates import SC_FIRST_ROW, SC_HEADER_CELLS, write_templates
    from qos_xl.output.templates_text import selfcheck_filename
    from qos_xl.core.values import Period

    plan = load_plan(config / "plan.csv", config / "settings.csv")
    unit = Unit(SENTINEL_CODE, SENTINEL_NAME, SENTINEL_SHORT, (), "一級單位", ())
    registry = Registry(plan.organisation, (unit,))
    with tempfile.TemporaryDirectory() as tmp:
        write_templates(plan, registry, Path(tmp), Period.parse(PERIOD), [unit])
        data = (Path(tmp) / selfcheck_filename(unit, Period.parse(PERIOD))).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
        wb = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(r'<sheet name="自行檢核表" sheetId="[0-9]+" r:id="(rId[0-9]+)"', wb).group(1)
    target = re.search(rf'<Relationship Id="{rid}" Type="[^"]+" Target="([^"]+)"', rels).group(1)
    sheet_name = "xl/" + target.lstrip("/").removeprefix("xl/")
    xml = next(b for i, b in members if i.filename == sheet_name).decode()
    first_row = SC_FIRST_ROW + 1
    last_row = first_row + len(plan.steps) - 1
    cells = {name: value for name, (_, value) in SC_HEADER_CELLS.items() if name != "period"}
    wanted = set(cells.values()) | {f"{c}{r}" for r in range(first_row, last_row + 1) for c in "FGHIJ"}
    pieces, slots, pos = [], [], 0
    for m in _CELL.finditer(xml):
        ref = m.group(1) + m.group(2)
        if ref in wanted:
            pieces.append(xml[pos:m.start()])
            slots.append((ref, int(m.group(3)) if m.group(3) else None, m.group(0)))
            pos = m.end()
    pieces.append(xml[pos:])
    found = {s[0] for s in slots}
    if found != wanted:
        raise SystemExit(f"template layout changed: cells not found {sorted(wanted - found)[:5]}")
    return Template([(i, b) for i, b in members if i.filename != sheet_name], sheet_name, pieces, slots, first_row,
                    list(plan.steps), cells)


# --------------------------------------------------------------------------------------
# One unit's answers


def _roc_date(day: dt.date, rng: random.Random, *, numeric_ok: bool = True):
    """A date as a unit types it: several ROC text forms, or a real date in a date cell."""
    y, m, d = day.year - 1911, day.month, day.day
    r = rng.random()
    if numeric_ok and r < 0.10:
        return (day - dt.date(1899, 12, 30)).days  # Excel serial: typed 2013/5/3 into the date cell
    forms = [f"{y}/{m}/{d}", f"{y}.{m}.{d}", f"{y}年{m}月{d}日", f"{y}{m:02d}{d:02d}", f"{y}/{m:02d}/{d:02d}"]
    text = rng.choices(forms, weights=(35, 20, 20, 15, 10))[0]
    if rng.random() < 0.03:
        text = text.translate(str.maketrans("0123456789/.", "０１２３４５６７８９／．"))
    return text


def _sentence(rng: random.Random) -> str:
    return rng.choice(SENTENCES).format(
        m=rng.randint(1, 6), d=rng.randint(1, 28), m2=rng.randint(7, 12), n=rng.randint(1, 30), p=rng.randint(10, 3000),
        s=rng.randint(70, 99), o=rng.choice(ORGS), g=rng.choice("優甲乙"))


def _narrative(rng: random.Random) -> str:
    count = min(int(rng.expovariate(1 / 2.5)) + 1, 14)
    parts = [_sentence(rng) for _ in range(count)]
    if not any(ch.isdigit() for ch in "".join(parts)) and rng.random() < 0.9:
        # what a unit really did has a when (most clerks write it); one in ten keeps the stock sentence,
        # so the quality hints (narrative-copied) meet a realistic share of copied text
        parts[0] = f"本年{rng.randint(1, 6)}月{rng.randint(1, 28)}日起，{parts[0]}"
    if count > 3 and rng.random() < 0.3:  # numbered list typed with Alt+Enter
        return "\n".join(f"{i}. {p}" for i, p in enumerate(parts, 1))
    return "".join(parts)


def _evidence(rng: random.Random) -> str:
    return rng.choice(EVIDENCE).format(b=rng.choice("秘企管養新"), k=rng.randint(10000000, 99999999), n=rng.randint(1, 9))


def answers(template: Template, unit: BenchUnit, rng: random.Random, trouble: str | None) -> dict[str, object]:
    """Cell ref -> value for one unit's filled self-check; ``trouble`` injects one problem."""
    month = int(PERIOD[-2:])
    report = dt.date(2013, 6, rng.randint(10, 30))
    values: dict[str, object] = {
        template.cells["filler"]: rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
        template.cells["phone"]: rng.choice(PHONES).format(x=rng.randint(0, 99), e=rng.randint(100, 9999)),
        template.cells["report_date"]: _roc_date(report, rng),
    }
    if rng.random() < 0.10:
        values[template.cells["unit"]] = unit.short  # retyped the name as the short name
    statuses, weights = zip(*STATUS_WEIGHTS)
    skew = rng.uniform(0.5, 1.5)  # some units are further along than others
    weights = (weights[0] * skew, *weights[1:])
    rows = []
    for i, step in enumerate(template.steps):
        r = template.first_row + i
        rows.append(r)
        if not step.due_at(month):
            continue
        status = rng.choices(statuses, weights=weights)[0]
        values[f"F{r}"] = status
        if status == "已完成":
            values[f"G{r}"] = _narrative(rng)
            values[f"H{r}"] = _roc_date(dt.date(2013, 1, 2) + dt.timedelta(days=rng.randint(0, (report - dt.date(2013, 1, 2)).days)), rng)
        elif status == "辦理中":
            values[f"G{r}"] = _narrative(rng)
        elif status == "未辦理":
            values[f"G{r}"] = rng.choice(UNDONE_NOTES)
        else:
            values[f"G{r}" if rng.random() < 0.7 else f"J{r}"] = rng.choice(NA_REASONS)
        if status in ("已完成", "辦理中"):
            values[f"I{r}"] = _evidence(rng)
        values.setdefault(f"J{r}", rng.choice(REMARKS))
    done_rows = [r for r in rows if values.get(f"F{r}") == "已完成"]
    busy_rows = [r for r in rows if values.get(f"F{r}") == "辦理中"]
    not_due = [template.first_row + i for i, s in enumerate(template.steps) if not s.due_at(month)]
    if trouble == "status-not-allowed":
        values[f"F{rng.choice(rows)}"] = rng.choice(["做完了", "OK", "已完成了", "v"])
    elif trouble == "done-date-missing" and done_rows:
        values[f"H{rng.choice(done_rows)}"] = ""
    elif trouble == "done-date-after-report" and done_rows:
        values[f"H{rng.choice(done_rows)}"] = _roc_date(dt.date(2013, 7, rng.randint(1, 31)), rng, numeric_ok=False)
    elif trouble == "narrative-missing" and busy_rows:
        values[f"G{rng.choice(busy_rows)}"] = ""
    elif trouble == "status-not-due" and not_due:
        r = rng.choice(not_due)
        values[f"F{r}"], values[f"G{r}"] = "辦理中", _narrative(rng)
    elif trouble == "done-date-before-plan-year" and done_rows:
        values[f"H{rng.choice(done_rows)}"] = _roc_date(dt.date(2012, rng.randint(1, 12), rng.randint(1, 28)), rng, numeric_ok=False)
    elif trouble == "filler-missing":
        values[template.cells["filler"]] = ""
    elif trouble == "status-synonym" and done_rows:
        values[f"F{rng.choice(done_rows)}"] = SYNONYMS["已完成"]
    return {k: v for k, v in values.items() if v != ""}


def _cell(ref: str, style: int | None, original: str, value) -> str:
    if value is None:
        return original
    s = f' s="{style}"' if style is not None else ""
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    text = escape(str(value))
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _replacer(unit: BenchUnit):
    pairs = ((SENTINEL_NAME, escape(unit.name)), (SENTINEL_SHORT, escape(unit.short)), (SENTINEL_CODE, unit.code))

    def replace(data: bytes) -> bytes:
        if b"QOSBENCH" not in data:
            return data
        text = data.decode("utf-8")
        for old, new in pairs:
            text = text.replace(old, new)
        return text.encode("utf-8")

    return replace


def file_bytes(template: Template, unit: BenchUnit, values: dict[str, object]) -> bytes:
    replace = _replacer(unit)
    parts = [template.pieces[0]]
    for (ref, style, original), piece in zip(template.slots, template.pieces[1:]):
        parts.append(_cell(ref, style, original, values.get(ref)))
        parts.append(piece)
    sheet = replace("".join(parts).encode("utf-8"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        stamp = (2013, 6, 28, 9, 0, 0)
        for info, data in template.members:
            zf.writestr(_info(info.filename, stamp), replace(data))
        zf.writestr(_info(template.sheet_name, stamp), sheet)
    return out.getvalue()


def _info(name: str, stamp) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info


def filename(unit: BenchUnit, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.70:
        return f"{unit.short}_自行檢核表_{PERIOD}.xlsx"
    if r < 0.80:
        return f"{unit.short}_自行檢核表_102062{rng.randint(0, 9)}(修正版).xlsx"
    if r < 0.90:
        return f"{unit.code}_{unit.short}期中自評.xlsx"
    return f"{unit.name}102年期中自行檢核表.xlsx"


# --------------------------------------------------------------------------------------
# The set


@dataclass(frozen=True)
class BenchSet:
    n: int
    root: Path
    config: Path
    inbox: Path
    problems: dict[str, int]

    def files(self) -> list[Path]:
        return sorted(self.inbox.glob("*.xlsx"))


def _stamp(n: int, seed: int) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from qos_xl import TEMPLATE_VERSION

    digest = hashlib.sha256()
    for name in ("plan.csv", "settings.csv"):
        digest.update((SOURCE_CONFIG / name).read_bytes())
    return {"generator": GENERATOR_VERSION, "n": n, "seed": seed, "period": PERIOD, "template_version": TEMPLATE_VERSION,
            "config_sha256": digest.hexdigest()}


def generate(n: int, *, seed: int = SEED, work: Path = WORK, force: bool = False, quiet: bool = False) -> BenchSet:
    """The set for N units, from the cache when its stamp matches."""
    root = work / str(n)
    stamp_file = root / "stamp.json"
    stamp = _stamp(n, seed)
    if not force and stamp_file.is_file():
        saved = json.loads(stamp_file.read_text(encoding="utf-8"))
        if {k: saved.get(k) for k in stamp} == stamp:
            return BenchSet(n, root, root / "config", root / "inbox", saved.get("problems", {}))
    started = time.perf_counter()
    if root.exists():
        shutil.rmtree(root)
    config, inbox = root / "config", root / "inbox"
    rng = random.Random(seed)
    units = make_units(n, rng)
    write_config(config, units)
    template = build_template(config)
    inbox.mkdir(parents=True)
    troubles = (["status-not-allowed", "done-date-missing", "done-date-after-report", "narrative-missing"],
                ["status-not-due", "done-date-before-plan-year", "filler-missing", "status-synonym"])
    problems: dict[str, int] = {}
    names: set[str] = set()
    for unit in units:
        r = rng.random()
        trouble = None
        if r < ERROR_SHARE:
            trouble = rng.choice(troubles[0])
        elif r < ERROR_SHARE + WARNING_SHARE:
            trouble = rng.choice(troubles[1])
        if trouble:
            problems[trouble] = problems.get(trouble, 0) + 1
        values = answers(template, unit, rng, trouble)
        name = filename(unit, rng)
        assert name not in names, name
        names.add(name)
        (inbox / name).write_bytes(file_bytes(template, unit, values))
    stamp["problems"] = problems
    stamp["seconds"] = round(time.perf_counter() - started, 2)
    stamp_file.write_text(json.dumps(stamp, ensure_ascii=False, indent=2), encoding="utf-8")
    if not quiet:
        print(f"generated {n} files in {stamp['seconds']} s -> {inbox}", file=sys.stderr)
    return BenchSet(n, root, config, inbox, problems)


def check_sample(bench: BenchSet, count: int = 5, seed: int = 1) -> None:
    """Open a sample in openpyxl, and run ``qos-xl validate`` on it: clean files exit 0."""
    from openpyxl import load_workbook

    sys.path.insert(0, str(ROOT / "src"))
    from qos_xl.output.templates import SC_HEADER_CELLS

    label, value = SC_HEADER_CELLS["unit"]
    files = bench.files()
    sample = random.Random(seed).sample(files, min(count, len(files)))
    exe = ROOT / ".venv" / "bin" / "qos-xl"
    for path in sample:
        ws = load_workbook(path)["自行檢核表"]
        assert ws[label].value == "機關(單位)名稱" and ws[value].value, path
        proc = subprocess.run([str(exe), "validate", "--config", str(bench.config), "--no-feedback", "--json", str(path)],
                              capture_output=True, text=True)
        result = json.loads(proc.stdout)
        problems = result["files"][0]["problems"]
        codes = sorted({p["code"] for p in problems})
        expect = 0 if not any(p["severity"] == "error" for p in problems) else 1
        print(f"  {path.name}: openpyxl ok, {value}={ws[value].value!r}, validate exit {proc.returncode}"
              f"{' ' + ','.join(codes) if codes else ''}", file=sys.stderr)
        if proc.returncode != expect:
            raise SystemExit(f"unexpected validate exit {proc.returncode} for {path}: {proc.stderr}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--force", action="store_true", help="regenerate even when the cache is current")
    parser.add_argument("--check", type=int, default=0, metavar="K", help="open and validate K sample files")
    args = parser.parse_args(argv)
    bench = generate(args.n, seed=args.seed, force=args.force)
    print(bench.inbox)
    if args.check:
        check_sample(bench, args.check)


if __name__ == "__main__":
    main()

"""Cell value parsing: ROC dates, statuses, periods and years."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qos_xl.core.values import (
    STATUSES,
    Parsed,
    Period,
    Status,
    format_roc,
    parse_date,
    parse_period,
    parse_roc_year,
    parse_status,
    shown_date,
)

D = date(2013, 6, 30)
CJK = re.compile(r"[\u4e00-\u9fff]")


def full_width(s: str) -> str:
    """ASCII -> full-width forms, as typed with a Chinese IME."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def assert_zh_error(result: Parsed) -> None:
    assert result.value is None
    assert result.error and CJK.search(result.error), result


# -- dates ----------------------------------------------------------------------------

VALID_DATES = [
    # ROC text
    ("102/6/30", D),
    ("102/06/30", D),
    ("102.6.30", D),
    ("102-06-30", D),
    ("102年6月30日", D),
    ("102 年 6 月 30 日", D),
    ("民國102年6月30日", D),
    ("中華民國102年6月30日", D),
    ("中華民國 102 年 06 月 30 日", D),
    ("102年06月30號", D),
    ("1020630", D),
    ("民國1020630", D),
    ("102/6/30(星期日)", D),
    ("102/6/30（日）", D),
    ("102年6月30日 星期日", D),
    ("102/6-30", D),
    ("102年6/30", D),
    ("099/06/30", date(2010, 6, 30)),
    ("民國99年6月30日", date(2010, 6, 30)),
    ("0990630", date(2010, 6, 30)),
    ("001/1/1", date(1912, 1, 1)),
    ("0102/6/30", D),  # how LibreOffice shows a date of the year 102 AD, copied as text
    ("199/12/31", date(2110, 12, 31)),
    ("101/2/29", date(2012, 2, 29)),
    # Gregorian text
    ("2013/6/30", D),
    ("2013-06-30", D),
    ("2013.6.30", D),
    ("2013年6月30日", D),
    ("西元2013年6月30日", D),
    ("20130630", D),
    ("2013-06-30 00:00:00", D),
    ("2013-06-30T08:00:00", D),
    ("2013-06-30T08:00:00.123+08:00", D),
    ("2013/6/30 上午 12:00:00", D),
    ("2013/6/30 8:15 PM", D),
    ("2013年6月30日 08:00", D),
    ("2013/6/30 (Sun)", D),
    # full-width digits and punctuation, full-width spaces, other dashes
    ("１０２／６／３０", D),
    ("１０２．０６．３０", D),
    ("１０２－０６－３０", D),
    ("\u3000１０２年６月３０日\u3000", D),
    ("１０２０６３０", D),
    ("２０１３／６／３０", D),
    ("102\u201306\u201330", D),
    # real date cells
    (D, D),
    (datetime(2013, 6, 30, 17, 45), D),
    (pd.Timestamp("2013-06-30 08:00"), D),
    # numbers: compact ROC / Gregorian, Excel serials
    (1020630, D),
    (1020630.0, D),
    (20130630, D),
    (41455, D),
    (41455.75, D),
    (4384, date(1912, 1, 1)),
]


@pytest.mark.parametrize(("raw", "expected"), VALID_DATES)
def test_parse_date_valid(raw, expected):
    assert parse_date(raw) == Parsed(expected)


def test_parse_date_1904_system():
    assert parse_date(41455 - 1462, date1904=True) == Parsed(D)
    assert parse_date(3000, date1904=True) == Parsed(date(1912, 3, 19))
    assert parse_date(60, date1904=True) == Parsed(None, "這個數字不是有效的日期")  # 1904-03-01


def test_excel_1900_leap_bug():
    assert parse_date(60).error == "Excel 的 1900/2/29 不存在的日期"
    # serials after 60 are one day late: 1912-01-01 is serial 4384, so 1912-02-29 is 4443
    assert parse_date(4443).value == date(1912, 2, 29)
    assert parse_date(4444).value == date(1912, 3, 1)


INVALID_DATES = [
    ("6/30", "缺少年份，無法判斷"),
    ("6月30日", "缺少年份，無法判斷"),
    ("06-30", "缺少年份，無法判斷"),
    ("102/6", "缺少「日」，無法判斷"),
    ("102年6月", "缺少「日」，無法判斷"),
    ("2013-06", "缺少「日」，無法判斷"),
    ("30/6/2013", "請依 年/月/日 的順序填寫"),
    ("06/30/2013", "請依 年/月/日 的順序填寫"),
    ("30.6.102", "請依 年/月/日 的順序填寫"),
    ("102/13/1", "月份必須是 1 到 12"),
    ("102/0/1", "月份必須是 1 到 12"),
    ("102/6/0", "日必須是 1 到 31"),
    ("102/6/32", "日必須是 1 到 31"),
    ("102/2/30", "日期不存在（2 月沒有 30 日）"),
    ("102/4/31", "日期不存在（4 月沒有 31 日）"),
    ("102/2/29", "日期不存在（民國 102 年不是閏年，2 月沒有 29 日）"),
    ("1021301", "月份必須是 1 到 12"),
    ("0/6/30", "民國年份必須是 1 到 199"),
    ("13/6/1", "年份「13」只有兩位數，無法判斷是民國 13 年還是西元 2013 年：民國 13 年請寫 013/6/1，西元 2013 年請寫 102/6/1"),
    ("99/6/30", "年份「99」只有兩位數，無法判斷是民國 99 年還是西元 1999 年：民國 99 年請寫 099/6/30，西元 1999 年請寫 088/6/30"),
    ("1/1/1", "年份「1」只有一位數，無法判斷是民國 1 年還是西元 2001 年：民國 1 年請寫 001/1/1，西元 2001 年請寫 090/1/1"),
    ("130601", "年份「13」只有兩位數，無法判斷是民國 13 年還是西元 2013 年：民國 13 年請寫 013/6/1，西元 2013 年請寫 102/6/1"),
    (990630, "年份「99」只有兩位數，無法判斷是民國 99 年還是西元 1999 年：民國 99 年請寫 099/6/30，西元 1999 年請寫 088/6/30"),
    ("2013-06-31", "日期不存在（6 月沒有 31 日）"),
    ("200/6/30", "民國年份必須是 1 到 199"),
    ("民國2013年6月30日", "民國年份必須是 1 到 199"),
    ("1900/1/1", "西元年份必須在 1912 到 2110 之間"),
    ("西元102年6月30日", "西元年份必須在 1912 到 2110 之間"),
    ("六月底", "不是日期的寫法"),
    ("已完成", "不是日期的寫法"),
    ("102/6/30前", "不是日期的寫法"),
    ("102/6/308:00", "不是日期的寫法"),
    ("41455", "不是日期的寫法"),
    ("2013", "不是日期的寫法"),
    ("八十", "不是日期的寫法"),
    (60, "Excel 的 1900/2/29 不存在的日期"),
    (0, "這個數字不是有效的日期"),
    (-1, "這個數字不是有效的日期"),
    (-41455.5, "這個數字不是有效的日期"),
    (100, "這個數字不是有效的日期"),  # serial 100 is 1900-04-09, before ROC year 1
    (2958465, "民國年份必須是 1 到 199"),  # 7 digits read as ROC YYYMMDD: year 295
    (123456789, "這個數字不是有效的日期"),
    (19000101, "西元年份必須在 1912 到 2110 之間"),
    (1021301, "月份必須是 1 到 12"),
    (1020230, "日期不存在（2 月沒有 30 日）"),
    (math.nan, "不是日期的寫法"),
    (math.inf, "不是日期的寫法"),
    (True, "不是日期的寫法"),
    (False, "不是日期的寫法"),
    (pd.NaT, "不是日期的寫法"),
    (date(1911, 12, 31), "日期必須在民國 1 年到 199 年之間"),
    (time(8, 0), "只有時間，沒有日期"),
]


@pytest.mark.parametrize(("raw", "error"), INVALID_DATES)
def test_parse_date_invalid(raw, error):
    result = parse_date(raw)
    assert_zh_error(result)
    assert result.error == error
    assert not result.blank


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", "\u3000 \t\n"])
def test_parse_date_blank(raw):
    result = parse_date(raw)
    assert result == Parsed(None) and result.blank


@pytest.mark.parametrize(
    ("d", "expected"),
    [(D, "102/06/30"), (date(1912, 1, 1), "001/01/01"), (date(2010, 12, 5), "099/12/05")],
)
def test_format_roc(d, expected):
    assert format_roc(d) == expected


def test_format_roc_before_roc_year_1_is_given_in_iso_form():
    assert format_roc(date(1911, 12, 31)) == "1911-12-31"


@pytest.mark.parametrize(("value", "kwargs", "expected"), [
    (None, {}, ""), (float("nan"), {}, ""), (D, {"compact": True}, "1020630"),
    (datetime(2013, 6, 30, 14, 5), {"with_time": True}, "102/06/30 14:05"),
    (datetime(2013, 6, 30, 14, 5), {}, "102/06/30"), ("2013-06-30T08:00:00", {}, "102/06/30"),
    ("not a date", {}, "not a date"),
])
def test_format_roc_takes_what_reports_hold(value, kwargs, expected):
    assert format_roc(value, **kwargs) == expected


def roc_forms(d: date) -> list[str]:
    y, m, dd = f"{d.year - 1911:03d}", d.month, d.day
    forms = [
        f"{y}/{m}/{dd}",
        f"{y}/{m:02d}/{dd:02d}",
        f"{y}.{m}.{dd}",
        f"{y}-{m:02d}-{dd:02d}",
        f"{y}年{m}月{dd}日",
        f"民國{y}年{m:02d}月{dd:02d}號",
        format_roc(d),
    ]
    forms.append(f"{y}{m:02d}{dd:02d}")
    return forms + [full_width(f) for f in forms]


@settings(max_examples=150, deadline=None)
@given(st.dates(min_value=date(1912, 1, 1), max_value=date(2099, 12, 31)))
def test_roc_forms_round_trip(d):
    for form in roc_forms(d):
        assert parse_date(form) == Parsed(d), form
    assert parse_date(d.strftime("%Y-%m-%d")) == Parsed(d)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_date_never_raises_on_text(raw):
    result = parse_date(raw)
    assert isinstance(result, Parsed)
    assert result.value is None or isinstance(result.value, date)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(), st.floats(), st.booleans()), st.booleans())
def test_parse_date_never_raises_on_numbers(raw, date1904):
    result = parse_date(raw, date1904=date1904)
    assert isinstance(result, Parsed)
    assert (result.value is None) != (result.error is None)
    if result.value is not None:
        assert date(1912, 1, 1) <= result.value <= date(2110, 12, 31)


# -- statuses -------------------------------------------------------------------------

SYNONYMS = [
    *[(w, "已完成") for w in ("完成", "已辦理完成", "辦理完成", "已辦竣", "完竣", "done", "Done", "ＤＯＮＥ")],
    *[(w, "辦理中") for w in ("進行中", "執行中", "處理中", "辦理中(持續)", "辦理中（持續）", "持續辦理", "持續辦理中")],
    *[(w, "未辦理") for w in ("尚未辦理", "未執行", "尚未執行", "未開始", "未完成")],
    *[(w, "不適用") for w in ("N/A", "NA", "n/a", "na", "Ｎ／Ａ", "無", "不需辦理", "免辦理", "非適用")],
]


@pytest.mark.parametrize(("raw", "expected"), SYNONYMS)
def test_status_synonyms(raw, expected):
    assert parse_status(raw) == Status(expected, synonym=True)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("dress", [str, " {} ".format, "\u3000{}\u3000".format, " ".join, full_width])
def test_status_canonical(status, dress):
    assert parse_status(dress(status)) == Status(status)


@pytest.mark.parametrize("raw", ["已完", "OK", "完成了", "102/6/30", "是", 1, "不適用？"])
def test_status_unknown(raw):
    assert parse_status(raw) == Status(None, synonym=False, known=False)


@pytest.mark.parametrize("raw", [None, "", "  ", "\u3000"])
def test_status_blank(raw):
    assert parse_status(raw) == Status(None)


# -- periods --------------------------------------------------------------------------

VALID_PERIODS = [
    ("102-06", Period(102, 6)),
    ("102-6", Period(102, 6)),
    ("102/06", Period(102, 6)),
    ("102.6", Period(102, 6)),
    ("10206", Period(102, 6)),
    ("10212", Period(102, 12)),
    ("102年6月", Period(102, 6)),
    ("102年06月", Period(102, 6)),
    ("102 年 12 月份", Period(102, 12)),
    ("102年度6月", Period(102, 6)),
    ("民國102年6月", Period(102, 6)),
    ("102年度期中", Period(102, 6)),
    ("102年度年度", Period(102, 12)),
    ("102年度年終", Period(102, 12)),
    ("102年度年度執行成果", Period(102, 12)),
    ("１０２－０６", Period(102, 6)),
    ("１０２年１２月", Period(102, 12)),
    ("2013-06", Period(102, 6)),
    ("201312", Period(102, 12)),
    ("99-12", Period(99, 12)),
    (10206, Period(102, 6)),
    (date(2013, 6, 1), Period(102, 6)),
    (datetime(2013, 12, 1), Period(102, 12)),
]


@pytest.mark.parametrize(("raw", "expected"), VALID_PERIODS)
def test_parse_period_valid(raw, expected):
    assert parse_period(raw) == Parsed(expected)


INVALID_PERIODS = [
    ("102-13", "月份必須是 1 到 12"),
    ("102-00", "月份必須是 1 到 12"),
    ("102年13月", "月份必須是 1 到 12"),
    ("6月", "缺少年份，無法判斷"),
    ("期中", "缺少年份，無法判斷"),
    ("年度執行成果", "缺少年份，無法判斷"),
    ("102", "缺少月份，無法判斷"),
    ("102年度", "缺少月份，無法判斷"),
    ("0-06", "民國年份必須是 1 到 199"),
    ("1900-06", "西元年份必須在 1912 到 2110 之間"),
    ("上學期", "無法辨識為期別"),
    ("102-06-30", "無法辨識為期別"),
    (102.06, "期別請以文字填寫，例如 102-06"),
    (True, "期別請以文字填寫，例如 102-06"),
]


@pytest.mark.parametrize(("raw", "error"), INVALID_PERIODS)
def test_parse_period_invalid(raw, error):
    result = parse_period(raw)
    assert_zh_error(result)
    assert result.error == error


def test_parse_period_blank():
    assert parse_period(None).blank and parse_period("\u3000").blank


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("102-06", Period(102, 6)), ("102-12", Period(102, 12)), ("102", Period(102, None)), (" 99-06 ", Period(99, 6)),
     ("102-6", Period(102, 6)), ("102/06", Period(102, 6)), ("102年6月", Period(102, 6)), ("民國102年12月", Period(102, 12)),
     ("102-8", Period(102, 8)), ("102年", Period(102, None))],
)
def test_period_parse_strict(raw, expected):
    assert Period.parse(raw) == expected
    assert str(Period.parse(str(expected))) == str(expected)


@pytest.mark.parametrize(("raw", "error"), [
    ("102-03", "期別須為 102、102-06、102-08 或 102-12（「102-03」：3 月不是查核月份）"),
    ("2013-06", "期別「2013-06」請以民國年表示，例如 102-06"),
    ("0", "期別「0」的年份須為民國 1 到 199 年"),
    ("200-06", "期別「200-06」的年份須為民國 1 到 199 年"),
    ("102-13", "期別「102-13」的月份必須是 1 到 12"),
    ("", "期別「」無法辨識，請寫成 102-06（也可寫 102-6、102/06、102年6月）"),
    ("abc", "期別「abc」無法辨識，請寫成 102-06（也可寫 102-6、102/06、102年6月）"),
])
def test_period_parse_strict_rejects(raw, error):
    with pytest.raises(ValueError) as caught:
        Period.parse(raw)
    assert str(caught.value) == error


def test_period_parse_names_the_checkpoints_it_allows():
    assert Period.parse("102/12", months=(6, 12)) == Period(102, 12)
    for raw, why in (("102-07", "7 月不是查核月份"), ("102-08", "8 月不是查核月份"), ("102", "須含月份")):
        with pytest.raises(ValueError) as caught:
            Period.parse(raw, months=(6, 12))
        assert str(caught.value) == f"期別須為 102-06 或 102-12（「{raw}」：{why}）"


def test_period_str_and_order():
    assert [str(p) for p in (Period(102, 6), Period(102, 12), Period(102, None), Period(99, 6))] == [
        "102-06",
        "102-12",
        "102",
        "99-06",
    ]
    assert sorted([Period(103, 6), Period(102, 12), Period(102, 6)]) == [Period(102, 6), Period(102, 12), Period(103, 6)]


# -- years ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["102", 102, 102.0, "102年", "102年度", "民國102年", "民國 102 年度", "１０２", "１０２年度", 2013, "2013", "2013年"],
)
def test_parse_roc_year_valid(raw):
    assert parse_roc_year(raw) == Parsed(102)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("0", "民國年份必須是 1 到 199"),
        (200, "民國年份必須是 1 到 199"),
        (1900, "西元年份必須在 1912 到 2110 之間"),
        (102.5, "年度必須是整數，例如 102"),
        (math.nan, "年度必須是整數，例如 102"),
        ("102年6月", "無法辨識為年度"),
        ("一百零二年", "無法辨識為年度"),
    ],
)
def test_parse_roc_year_invalid(raw, error):
    result = parse_roc_year(raw)
    assert_zh_error(result)
    assert result.error == error


def test_parse_roc_year_blank():
    assert parse_roc_year(None).blank and parse_roc_year(" ").blank


# What LibreOffice 7.4 (zh-TW) stores for dates typed into a date-formatted cell: measured by
# importing the typed text with the zh-TW locale and saving as .xlsx (serial) and .ods (ISO date).
LIBREOFFICE_TYPED = [
    # typed, .xlsx serial, .ods date-value, the ROC date meant
    ("102/6/30", -656525, date(102, 6, 29), D),
    ("102.6.20", -656535, date(102, 6, 19), date(2013, 6, 20)),
    ("102年6月15日", -656540, date(102, 6, 14), date(2013, 6, 15)),
    ("102/6/1", -656554, date(102, 5, 31), date(2013, 6, 1)),
]


@pytest.mark.parametrize(("typed", "serial", "odf", "meant"), LIBREOFFICE_TYPED)
def test_roc_date_typed_into_a_libreoffice_date_cell(typed, serial, odf, meant):
    """The year 102 AD, shown in the Julian calendar and stored proleptic Gregorian: read as typed."""
    shown = f"102/{meant.month}/{meant.day}"
    for raw in (serial, float(serial), odf, datetime(odf.year, odf.month, odf.day), pd.Timestamp(odf).to_pydatetime()):
        assert parse_date(raw) == Parsed(meant, typed=shown), raw
        assert shown_date(raw) == shown
    assert parse_date(typed) == Parsed(meant)           # the same typing into a text cell: no note
    assert parse_date(serial - 1462, date1904=True) == Parsed(meant, typed=shown)


def test_early_dates_that_are_no_roc_date():
    assert parse_date(date(500, 1, 1)).error == "日期必須在民國 1 年到 199 年之間"
    assert parse_date(-(10**9)).error == "這個數字不是有效的日期"
    assert parse_date(-1).error == "這個數字不是有效的日期"              # 1899-12-29: not before the year 1000
    # 104/2/29 exists in the Julian year 104, not in 2015
    assert parse_date(date(104, 2, 28)).error == "日期不存在（民國 104 年不是閏年，2 月沒有 29 日）"


@pytest.mark.parametrize(("raw", "shown"), [
    (datetime(2013, 6, 27), "102/06/27"), (date(2013, 6, 27), "102/06/27"), (pd.Timestamp("2013-06-27"), "102/06/27"),
    ("2013-06-27", "2013-06-27"), ("102/6/30", "102/6/30"), (1020630, "1020630"), (41455, "41455"),
    (date(1900, 1, 1), "1900/1/1"), (None, ""), (pd.NaT, ""),
])
def test_shown_date_quotes_the_cell_as_it_shows(raw, shown):
    assert shown_date(raw) == shown


def test_libreoffice_stores_typed_roc_dates_as_measured(tmp_path):
    """LIBREOFFICE_TYPED is what LibreOffice itself stores: typing simulated by a zh-TW CSV import."""
    from builders import libreoffice_typed

    stored = libreoffice_typed([typed for typed, *_ in LIBREOFFICE_TYPED], tmp_path)
    assert stored == {typed: (serial, odf.isoformat()) for typed, serial, odf, _ in LIBREOFFICE_TYPED}

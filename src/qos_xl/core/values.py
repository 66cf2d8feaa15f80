"""Cell values as civil servants type them: ROC (Minguo) dates, statuses, periods, years.

Every parser returns a result instead of raising: a value, a zh-TW reason why the cell
could not be read, or neither for a blank cell. Ambiguous input is an error, never a
guess: a year of one or two digits (``13/6/1``) could be ROC or Gregorian and is refused.
Years are accepted in the ROC range 1..199, i.e. 1912..2110 in the Gregorian calendar, so
every parsed date can be written back as an ROC date.

A date cell LibreOffice made from a typed ROC date (``102/6/30`` becomes a date in the
year 102 AD, stored as a negative serial in .xlsx and as ``0102-06-29`` in .ods) is read
as the ROC date the clerk typed: LibreOffice shows dates before 1582-10-15 in the Julian
calendar but stores them proleptic Gregorian, so the Julian day is what was typed.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from qos_xl.core.text import key, text
from qos_xl.core.vocabulary import CHECKPOINT_MONTHS, DOING, DONE, NOT_APPLICABLE, NOT_DONE, STATUSES

ROC_OFFSET = 1911
FIRST_DAY = date(1912, 1, 1)  # ROC year 1
LAST_DAY = date(2110, 12, 31)  # ROC year 199

NOT_DATE = "不是日期的寫法"
NO_YEAR = "缺少年份，無法判斷"
NO_DAY = "缺少「日」，無法判斷"
YEAR_FIRST = "請依 年/月/日 的順序填寫"
BAD_MONTH = "月份必須是 1 到 12"
BAD_DAY = "日必須是 1 到 31"
BAD_NUMBER = "這個數字不是有效的日期"
OUT_OF_RANGE = "日期必須在民國 1 年到 199 年之間"
SERIAL_60 = "Excel 的 1900/2/29 不存在的日期"
SHORT_YEAR = "年份「{year}」只有{digits}位數，無法判斷是民國 {roc} 年還是西元 {western} 年：民國 {roc} 年請寫 {as_roc}，西元 {western} 年請寫 {as_western}"
GREGORIAN_START = date(1582, 10, 15)  # LibreOffice shows earlier dates in the Julian calendar
_DIGIT_WORDS = {1: "一", 2: "兩"}

_ERA = re.compile(r"中華民國|民國|西元|公元")
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))
# A time of day after the date: "2013-06-30T08:00:00", "2013/6/30 上午 12:00:00".
_TIME = re.compile(
    r"(?:(?<=[0-9)])(?:T|\s+)|(?<=[日號])\s*)(?:上午|下午|AM|PM)?\s*"
    r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?\s*(?:AM|PM)?\s*(?:Z|[+-][0-9]{2}:?[0-9]{2})?$",
    re.IGNORECASE,
)
_WEEKDAY = re.compile(
    r"(?:\((?:星期|週|周|禮拜)?[一二三四五六日天]\)|(?:星期|週|周|禮拜)[一二三四五六日天]"
    r"|\((?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?\))$",
    re.IGNORECASE,
)
_FULL = re.compile(r"([0-9]{1,4})(?:[-/.]|年)([0-9]{1,2})(?:[-/.]|月)([0-9]{1,4})[日號]?")
_COMPACT = re.compile(r"[0-9]{6,8}")
_PAIR = re.compile(r"([0-9]{1,4})(?:[-/.]|年|月)([0-9]{1,4})[日號月]?")


class _Invalid(ValueError):
    """A cell value that cannot be read; the message is the zh-TW detail."""


@dataclass(frozen=True)
class Parsed:
    """A parsed cell: a value, or the zh-TW reason it failed; neither for a blank cell.

    ``typed``: for a date a spreadsheet stored in the year of the ROC number, the date as
    the clerk typed it and the cell shows it (``102/6/30``); None otherwise.
    """

    value: object | None
    error: str | None = None
    typed: str | None = None

    @property
    def blank(self) -> bool:
        """True for an empty cell."""
        return self.value is None and self.error is None


def _parsed(parse, raw: object, *args) -> Parsed:
    try:
        return Parsed(parse(raw, *args))
    except _Invalid as exc:
        return Parsed(None, str(exc))


def _split_era(s: str) -> tuple[str | None, str]:
    """Drop a leading 民國/西元: ("roc" | "western" | None, the rest)."""
    m = _ERA.match(s)
    if not m:
        return None, s
    return ("roc" if m[0].endswith("民國") else "western"), s[m.end():]


def _gregorian_year(digits: str, era: str | None) -> int:
    """A year as typed -> Gregorian: 1-3 digits are ROC, 4 digits Gregorian, unless era says."""
    year = int(digits)
    if era is None and len(digits) == 4 and digits.startswith("0"):  # 0102/6/30: how LibreOffice shows 102 AD
        digits = digits[1:]
    if (len(digits) <= 3) if era is None else era == "roc":
        if len(digits) > 3 or not 1 <= year <= 199:
            raise _Invalid("民國年份必須是 1 到 199")
        return year + ROC_OFFSET
    if len(digits) != 4 or not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise _Invalid(f"西元年份必須在 {FIRST_DAY.year} 到 {LAST_DAY.year} 之間")
    return year


def _short_year(year_digits: str, month_digits: str, day_digits: str) -> _Invalid:
    """A date written with a one- or two-digit year: ROC or Gregorian cannot be told apart."""
    short = int(year_digits)
    western = (2000 if short < 30 else 1900) + short  # how spreadsheets read a two-digit year
    rest = f"{int(month_digits)}/{int(day_digits)}"
    return _Invalid(SHORT_YEAR.format(year=year_digits, digits=_DIGIT_WORDS[len(year_digits)], roc=short, western=western,
                                      as_roc=f"{short:03d}/{rest}", as_western=f"{western - ROC_OFFSET:03d}/{rest}"))


def _build(year_digits: str, month_digits: str, day_digits: str, era: str | None) -> date:
    if era is None and len(year_digits) <= 2 and int(year_digits):
        raise _short_year(year_digits, month_digits, day_digits)
    year = _gregorian_year(year_digits, era)
    month, day = int(month_digits), int(day_digits)
    if not 1 <= month <= 12:
        raise _Invalid(BAD_MONTH)
    if not 1 <= day <= 31:
        raise _Invalid(BAD_DAY)
    try:
        return date(year, month, day)
    except ValueError:
        if (month, day) == (2, 29):
            raise _Invalid(f"日期不存在（民國 {year - ROC_OFFSET} 年不是閏年，2 月沒有 29 日）") from None
        raise _Invalid(f"日期不存在（{month} 月沒有 {day} 日）") from None


def _from_digits(digits: str, era: str | None) -> date:
    """Compact YYMMDD / YYYMMDD (ROC) or YYYYMMDD (Gregorian)."""
    return _build(digits[:-4], digits[-4:-2], digits[-2:], era)


_EPOCH_1900 = datetime(1899, 12, 30)        # serials >= 60 (Excel's fictitious 1900-02-29 is 60)
_EPOCH_1900_EARLY = datetime(1899, 12, 31)  # serials < 60
_EPOCH_1904 = datetime(1904, 1, 1)
_MAX_SERIAL_1900 = 2_958_466                # 10000-01-01
_MAX_SERIAL_1904 = _MAX_SERIAL_1900 - 1462


def excel_serial_to_datetime(serial: float, date1904: bool = False) -> datetime | None:
    """The one Excel serial conversion: day number -> datetime (to the millisecond), as it is shown.

    1900 system: Excel counts a 1900-02-29 that never was, so serials 1-59 are shifted one
    day and 60 itself, that phantom day, reads as 1900-02-28.  Excel has no dates before
    its day 0; LibreOffice stores them as negative serials counted back from it (proleptic
    Gregorian: 102/6/28 typed in zh-TW becomes the year 102 AD).  None for NaN and outside
    the years 1-9999.
    """
    if serial != serial:                    # NaN
        return None
    if date1904:
        if serial >= _MAX_SERIAL_1904:
            return None
        base = _EPOCH_1904
    else:
        if serial >= _MAX_SERIAL_1900:
            return None
        base = _EPOCH_1900_EARLY if 0 <= serial < 60 else _EPOCH_1900
    days = math.floor(serial)
    try:
        return base + timedelta(days=days, milliseconds=round((serial - days) * 86_400_000))
    except OverflowError:
        return None


def _from_number(n: numbers.Real, date1904: bool) -> date:
    if not math.isfinite(n):
        raise _Invalid(NOT_DATE)
    serial = math.floor(n)  # a fraction is a time of day
    if 100_000 <= serial <= 99_999_999:
        return _from_digits(str(serial), None)
    if serial == 60 and not date1904:
        raise _Invalid(SERIAL_60)
    if not 0 <= serial < 100_000:
        raise _Invalid(BAD_NUMBER)
    day = excel_serial_to_datetime(serial, date1904).date()
    if not FIRST_DAY <= day <= LAST_DAY:
        raise _Invalid(BAD_NUMBER)
    return day


def _stored_day(raw: object, date1904: bool) -> date | None:
    """The calendar day a date cell or a negative (before 1900) serial holds; None for anything else."""
    if isinstance(raw, date):
        return None if raw != raw else (raw.date() if isinstance(raw, datetime) else raw)   # raw != raw: NaT
    if isinstance(raw, numbers.Real) and not isinstance(raw, bool) and math.isfinite(raw) and raw < 0:
        stored = excel_serial_to_datetime(raw, date1904)
        return None if stored is None else stored.date()
    return None


def _julian(day: date) -> tuple[int, int, int]:
    """(year, month, day) in the Julian calendar of a proleptic Gregorian date."""
    c = day.toordinal() + 1721425 + 32082  # the Julian day number, counted from the Julian calendar's epoch
    d = (4 * c + 3) // 1461
    e = c - 1461 * d // 4
    m = (5 * e + 2) // 153
    return d - 4800 + m // 10, m + 3 - 12 * (m // 10), e - (153 * m + 2) // 5 + 1


def _shown_early(day: date) -> tuple[int, int, int]:
    """The day LibreOffice shows for a stored early date: in the Julian calendar before 1582-10-15."""
    return _julian(day) if day < GREGORIAN_START else (day.year, day.month, day.day)


def _from_early_date(day: date) -> tuple[date, str]:
    """A stored date before the year 1000: the ROC date that was typed (year 1..199), and its text."""
    year, month, dom = _shown_early(day)
    if not 1 <= year <= 199:
        raise _Invalid(OUT_OF_RANGE)
    try:
        return date(year + ROC_OFFSET, month, dom), f"{year}/{month}/{dom}"
    except ValueError:  # 2/29 of a Julian leap year that is not a leap year once shifted
        raise _Invalid(f"日期不存在（民國 {year} 年不是閏年，2 月沒有 29 日）") from None


def _from_text(raw: object) -> date | None:
    s = unicodedata.normalize("NFKC", text(raw)).translate(_DASHES)
    s = _WEEKDAY.sub("", key(_TIME.sub("", s)))
    if not s:
        return None
    era, s = _split_era(s)
    if m := _FULL.fullmatch(s):
        year, month, day = m.groups()
        if len(day) > 2 and len(year) <= 2:
            raise _Invalid(YEAR_FIRST)
        return _build(year, month, day, era)
    if _COMPACT.fullmatch(s):
        return _from_digits(s, era)
    if m := _PAIR.fullmatch(s):
        first, second = m.groups()
        raise _Invalid(NO_DAY if "年" in s or max(len(first), len(second)) > 2 else NO_YEAR)
    raise _Invalid(NOT_DATE)


def _date(raw: object, date1904: bool) -> tuple[date | None, str | None]:
    """(the date, the ROC date as typed when a spreadsheet stored it in the year of the ROC number)."""
    if raw is None:
        return None, None
    if isinstance(raw, time):
        raise _Invalid("只有時間，沒有日期")
    if isinstance(raw, bool) or (isinstance(raw, date) and raw != raw):  # raw != raw: pandas.NaT
        raise _Invalid(NOT_DATE)
    if (day := _stored_day(raw, date1904)) is not None:
        if day.year < 1000:  # 102/6/30 typed into a date cell: LibreOffice stores the year 0102
            return _from_early_date(day)
        if isinstance(raw, numbers.Real) or not FIRST_DAY <= day <= LAST_DAY:
            raise _Invalid(BAD_NUMBER if isinstance(raw, numbers.Real) else OUT_OF_RANGE)
        return day, None
    if isinstance(raw, numbers.Real):
        return _from_number(raw, date1904), None
    return _from_text(raw), None


def parse_date(raw: object, *, date1904: bool = False) -> Parsed:
    """A date cell (date, Excel serial, compact number or text, ROC or Gregorian) -> datetime.date.

    A date LibreOffice stored in the year of the ROC number comes back with ``typed`` set.
    """
    try:
        day, typed = _date(raw, date1904)
    except _Invalid as exc:
        return Parsed(None, str(exc))
    return Parsed(day, typed=typed)


def shown_date(raw: object, *, date1904: bool = False) -> str:
    """What a date cell shows, to quote it to a unit: ROC where it can be, never a serial or ISO text.

    Text as typed; a date as ``102/06/30``; a date before ROC year 1 as the spreadsheet shows
    it (``102/6/30`` for what LibreOffice stored in the year 102 AD).
    """
    day = _stored_day(raw, date1904)
    if day is None:
        return text(raw)
    if day.year <= ROC_OFFSET:
        year, month, dom = _shown_early(day)
        return f"{year}/{month}/{dom}"
    return format_roc(day)


def format_roc(value: object, *, compact: bool = False, with_time: bool = False) -> str:
    """The one way qos-xl writes a date for users: 2013-06-30 -> "102/06/30" ("1020630" compact).

    Takes a date, a datetime (``with_time`` adds "14:05"), a pandas Timestamp or an ISO
    text; blank (None, NaT, NaN) gives "".  A date before ROC year 1 cannot be written in
    the ROC calendar and is given as typed in ISO form.
    """
    if value is None or value != value:                      # None, NaN, NaT
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, date):
        return str(value)
    day = value.date() if isinstance(value, datetime) else value
    if day.year <= ROC_OFFSET:
        return day.isoformat()
    year = day.year - ROC_OFFSET
    # three-digit years, as typed years are read: 99/12/05 could be 1999, 099/12/05 cannot
    text = f"{year:03d}{day.month:02d}{day.day:02d}" if compact else f"{year:03d}/{day.month:02d}/{day.day:02d}"
    if with_time and isinstance(value, datetime):
        text += f" {value:%H:%M}"
    return text



_SYNONYMS = {
    key(word).casefold(): status
    for status, words in {
        DONE: ("完成", "已辦理完成", "辦理完成", "已辦竣", "完竣", "done"),
        DOING: ("進行中", "執行中", "處理中", "辦理中(持續)", "持續辦理", "持續辦理中"),
        NOT_DONE: ("尚未辦理", "未執行", "尚未執行", "未開始", "未完成"),
        NOT_APPLICABLE: ("N/A", "NA", "無", "不需辦理", "免辦理", "非適用"),
    }.items()
    for word in words
}


@dataclass(frozen=True)
class Status:
    """A 執行狀態 cell: the canonical status, whether it was typed as a synonym, whether known."""

    value: str | None
    synonym: bool = False
    known: bool = True


def parse_status(raw: object) -> Status:
    """A status cell -> Status; blank -> Status(None); unrecognised -> known=False."""
    word = key(raw)
    if not word:
        return Status(None)
    if word in STATUSES:
        return Status(word)
    if status := _SYNONYMS.get(word.casefold()):
        return Status(status, synonym=True)
    return Status(None, known=False)


_PERIOD_MONTH = (
    re.compile(r"([0-9]{1,4})(?:[-/.]|年度?)([0-9]{1,2})(?:月份?)?"),
    re.compile(r"([0-9]{3,4})([0-9]{2})"),  # 10206, 201306
)
_PERIOD_TERM = re.compile(r"(?:([0-9]{1,4})年度?)?(期中|上半年|年度|年終|年底|下半年)(?:執行成果)?")
_TERM_MONTH = {"期中": 6, "上半年": 6, "年度": 12, "年終": 12, "年底": 12, "下半年": 12}
_YEAR_ONLY = re.compile(r"([0-9]{1,4})(?:年度?)?")


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: ROC year and month (a checkpoint: 6, 8 or 12), or a plan year (month None)."""

    year: int
    month: int | None

    def __str__(self) -> str:
        return f"{self.year}" if self.month is None else f"{self.year}-{self.month:02d}"

    @classmethod
    def parse(cls, text: str, months: tuple[int | None, ...] = CHECKPOINT_MONTHS) -> Period:
        """A period as typed on the command line, one of ``months`` (None: the plan year itself).

        "102-06", "102-6", "102/06", "102.6", "102年6月", "民國102年6月"; "102" or "102年" for the
        plan year. ValueError with the zh-TW reason otherwise: unreadable, a Gregorian year, a
        month outside 1-12, or a month that is no checkpoint ("期別須為 102-06 或 102-12").
        """
        era, s = _split_era(key(text))
        if m := _PERIOD_MONTH[0].fullmatch(s):
            digits, month = m[1], int(m[2])
        elif m := _YEAR_ONLY.fullmatch(s):
            digits, month = m[1], None
        else:
            raise ValueError(f"期別「{text}」無法辨識，請寫成 102-06（也可寫 102-6、102/06、102年6月）")
        if len(digits) == 4 or era == "western":
            raise ValueError(f"期別「{text}」請以民國年表示，例如 102-06")
        year = int(digits)
        if not 1 <= year <= 199:
            raise ValueError(f"期別「{text}」的年份須為民國 1 到 199 年")
        if month is not None and not 1 <= month <= 12:
            raise ValueError(f"期別「{text}」的{BAD_MONTH}")
        if month not in months:
            named = [str(cls(year, m)) for m in months]
            listing = "、".join(named[:-1]) + f" 或 {named[-1]}" if len(named) > 1 else named[0]
            why = f"{month} 月不是查核月份" if month is not None else "須含月份"
            raise ValueError(f"期別須為 {listing}（「{text}」：{why}）")
        return cls(year, month)


def _cell_key(raw: object, bad_number: str) -> str:
    """key() of a cell, an integral number cell written as its digits."""
    if isinstance(raw, bool):
        raise _Invalid(bad_number)
    if isinstance(raw, numbers.Real):
        if not (math.isfinite(raw) and raw == math.floor(raw) and 0 <= raw < 10**8):
            raise _Invalid(bad_number)
        return str(int(raw))
    return key(raw)


def _period(raw: object) -> Period | None:
    if isinstance(raw, date) and raw == raw:  # a cell Excel turned into a date
        day = _date(raw, False)[0]
        return Period(day.year - ROC_OFFSET, day.month)
    era, s = _split_era(_cell_key(raw, "期別請以文字填寫，例如 102-06"))
    if not s and not era:
        return None
    if m := _PERIOD_TERM.fullmatch(s):
        year, month = m[1], _TERM_MONTH[m[2]]
    elif m := next(filter(None, (p.fullmatch(s) for p in _PERIOD_MONTH)), None):
        year, month = m[1], int(m[2])
    elif m := _YEAR_ONLY.fullmatch(s):
        _gregorian_year(m[1], era)
        raise _Invalid("缺少月份，無法判斷")
    elif re.fullmatch(r"[0-9]{1,2}月份?", s):
        raise _Invalid(NO_YEAR)
    else:
        raise _Invalid("無法辨識為期別")
    if year is None:
        raise _Invalid(NO_YEAR)
    roc_year = _gregorian_year(year, era) - ROC_OFFSET
    if not 1 <= month <= 12:
        raise _Invalid(BAD_MONTH)
    return Period(roc_year, month)


def parse_period(raw: object) -> Parsed:
    """A 填報期別 cell ("102-06", "102年6月", "102年度期中", ...) -> Period with a month."""
    return _parsed(_period, raw)


def _roc_year(raw: object) -> int | None:
    era, s = _split_era(_cell_key(raw, "年度必須是整數，例如 102"))
    if not s and not era:
        return None
    m = _YEAR_ONLY.fullmatch(s)
    if not m:
        raise _Invalid("無法辨識為年度")
    return _gregorian_year(m[1], era) - ROC_OFFSET


def parse_roc_year(raw: object) -> Parsed:
    """A work plan's 年度 cell ("102", 102, "102年度", "民國102年", 2013) -> ROC year int."""
    return _parsed(_roc_year, raw)


# ---------------------------------------------------------------------------------------
# Converting many values: in a city-scale inbox codes, statuses and dates repeat a lot


def cached(parse):
    """``parse`` remembering its answers, keyed by type and value (1, 1.0 and True stay apart)."""
    cache: dict = {}

    def lookup(value):
        k = (type(value), value)
        try:
            return cache[k]
        except KeyError:
            cache[k] = result = parse(value)
            return result
        except TypeError:  # unhashable
            return parse(value)

    return lookup


def each_distinct(parse, values: list) -> list:
    """``parse`` of every value, computed once per distinct value."""
    lookup = cached(parse)
    return [lookup(v) for v in values]

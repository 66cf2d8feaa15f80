"""click's own words (usage, help, errors) in zh-TW: a gettext catalogue for the strings click marks with ``_()``.

click looks every user-facing string up with ``gettext.gettext``/``ngettext`` in the
process's default text domain. ``speaking_zh_tw()`` points that domain at qos-xl's
catalogue (``locale/zh_TW/LC_MESSAGES/qos_xl.mo``, package data) and asks for zh-TW
through ``LANGUAGE``, the variable gettext reads first, so the command line is zh-TW
whatever the PC's locale. ``CATALOGUE`` is the source; ``scripts/click_catalogue.py``
writes the ``.mo`` from it, and ``tests/test_cli.py`` checks that the two agree and that
every string the installed click marks for translation is in it.

Placeholders: each translation may use any of the names click formats its string with;
a plural pair has one zh-TW form (Chinese does not inflect), so both names are available.
"""

from __future__ import annotations

import contextlib
import gettext
import os
from importlib.resources import files

DOMAIN = "qos_xl"
LANGUAGE = "zh_TW"

#: click's msgid (or (singular, plural) pair) -> zh-TW
CATALOGUE: dict[str | tuple[str, str], str] = {
    # help pages
    "Usage:": "用法：",
    "Options": "選項",
    "Commands": "指令",
    "Positional arguments": "引數",
    "Show this message and exit.": "顯示這份說明後結束。",
    "Show the version and exit.": "顯示版本後結束。",
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "default: {default}": "預設：{default}",
    "required": "必填",
    "env var: {var}": "環境變數：{var}",
    "(dynamic)": "（依情況而定）",
    "deprecated": "已停用",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": "注意：指令「{name}」已停用。{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}": "注意：「{name}」已停用。{extra_message}",
    # errors
    "Error: {message}": "錯誤：{message}",
    "Try '{command} {option}' for help.": "請執行「{command} {option}」查看說明與範例。",
    "No such command {name!r}.": "沒有「{name}」這個指令。",
    "No such option {name!r}.": "沒有「{name}」這個選項。",
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"): "是要輸入 {possibilities} 嗎？",
    "Missing command.": "缺少指令。",
    "Missing argument": "缺少引數",
    "Missing option": "缺少選項",
    "Missing parameter": "缺少參數",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少參數：{param_name}",
    "Invalid value for {param_hint}: {message}": "{param_hint}：{message}",
    "Invalid value: {message}": "值不正確：{message}",
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        "多了無法辨識的引數（{args}）。路徑中有空格時，請用引號把整個路徑括起來。",
    "Option {name!r} does not take a value.": "選項 {name} 後面不接值。",
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        "選項 {name} 後面須接 {nargs} 個值。",
    "Argument {name!r} takes {nargs} values.": "引數 {name} 須有 {nargs} 個值。",
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        "須有 {nargs} 個值，但只給了 {len} 個。",
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."): "須有 {len_type} 個值，但給了 {len_value} 個。",
    "Value must be an iterable.": "須為一串值。",
    "Invalid start character for option ({option})": "選項的開頭字元不正確（{option}）",
    "Aborted!": "已中止。",
    "unknown error": "未知的錯誤",
    "Could not open file {filename!r}: {message}": "無法開啟檔案「{filename}」：{message}",
    "Windows error: {error}": "Windows 錯誤：{error}",
    "Unknown standard stream '{name}'": "沒有「{name}」這個標準串流",
    # parameter types
    "file": "檔案",
    "directory": "資料夾",
    "path": "路徑",
    "{name} {filename!r} does not exist.": "找不到「{filename}」。請確認路徑與檔名是否正確（含空格的路徑請加上引號）。",
    "{name} {filename!r} is a file.": "「{filename}」是檔案，這裡須指定資料夾。",
    "{name} {filename!r} is a directory.": "「{filename}」是資料夾，這裡須指定檔案。",
    "{name} {filename!r} is not readable.": "沒有讀取「{filename}」的權限。",
    "{name} {filename!r} is not writable.": "沒有寫入「{filename}」的權限。",
    "{name} {filename!r} is not executable.": "「{filename}」無法執行。",
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): "「{value}」不是可用的值，可用：{choices}。",
    "Choose from:\n\t{choices}": "請從下列選擇：\n\t{choices}",
    "Choice({choices})": "選項（{choices}）",
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        "「{value}」的格式不符，須為 {formats}。",
    "{value} is not in the range {range}.": "{value} 不在 {range} 的範圍內。",
    "{value!r} is not a valid {number_type}.": "「{value}」不是有效的數字。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "「{value}」不是有效的是／否值，可用：{states}",
    "{value!r} is not a valid UUID.": "「{value}」不是有效的 UUID。",
    # prompts and terminal
    "Do you want to continue?": "要繼續嗎？",
    "Confirm the action without prompting.": "不詢問，直接確認。",
    "Repeat for confirmation": "請再輸入一次確認",
    "Error: The two entered values do not match.": "錯誤：兩次輸入的值不同。",
    "Error: invalid input": "錯誤：輸入不正確",
    "Press any key to continue...": "請按任意鍵繼續……",
    "d": "天",
    "Unknown color {colour!r}": "沒有「{colour}」這個顏色",
    "{editor}: Editing failed": "{editor}：編輯失敗",
    "{editor}: Editing failed: {e}": "{editor}：編輯失敗：{e}",
    # mistakes in a program's own definition of its options (never a user's)
    "Could not determine name for option with declarations {decls!r}": "無法由宣告 {decls} 決定選項名稱",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument instead? "
    "Did you mean to pass '--{name}'?": "沒有定義選項卻給了名稱（{name}）。",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.": "引數須只有一個宣告，卻有 {length} 個：{decls}。",
    "Name '{name}' defined twice": "名稱「{name}」重複定義",
    "Boolean option {decl!r} cannot use the same flag for true/false.": "是／否選項 {decl} 不能以同一個旗標表示是與否。",
    "Shell completion is not supported for Bash versions older than 4.4.": "Bash 4.4 以前的版本不支援自動補全。",
    "Couldn't detect Bash version, shell completion is not supported.": "無法判斷 Bash 版本，不支援自動補全。",
}


def locale_dir() -> str:
    """The folder holding ``zh_TW/LC_MESSAGES/qos_xl.mo``."""
    return os.fspath(files(__package__) / "locale")


@contextlib.contextmanager
def speaking_zh_tw():
    """click's strings in zh-TW inside the block; the text domain and LANGUAGE are restored after it."""
    domain, language = gettext.textdomain(), os.environ.get("LANGUAGE")
    gettext.bindtextdomain(DOMAIN, locale_dir())
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = LANGUAGE
    try:
        yield
    finally:
        gettext.textdomain(domain)
        if language is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = language

"""How a run that cannot finish ends: interrupted (130/143) or unable to write (2), in one zh-TW line and, with ``--json``, a JSON ``error``.

``main`` runs the command line inside ``run``: signals become ``Interrupted`` (cleanup
happens as it unwinds), and an ``OutputError`` or any other ``OSError`` that reaches the top
becomes one line on stderr naming the file, the likely cause and the fix — never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import click

from qos_xl.cli import console
from qos_xl.core import files, interrupt

EXIT_CANNOT_WRITE = 2      # the contract's "usage or configuration error": the run could not do its job


def json_wanted(argv: list[str]) -> bool:
    """Whether the command line asks for ``--json`` (options come before a ``--``)."""
    options = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in options


def command_name(argv: list[str]) -> str | None:
    """The subcommand on the command line (``merge``, ``validate``…), if any."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def say(message: str, *, as_json: bool, code: str, extra: dict | None = None) -> None:
    """The one line on stderr; with ``--json`` also ``{"error": {code, message}}`` (and ``extra``) on stdout."""
    click.echo(message, err=True)
    if as_json:
        _emit({**(extra or {}), "error": {"code": code, "message": message}})


def write_failed(error: files.OutputError, *, as_json: bool, data: dict | None = None) -> None:
    """Report an output that could not be written, after whatever the command did print (``data``: its JSON)."""
    click.echo(error.message, err=True)
    if as_json:
        _emit({**(data or {}), "error": error.to_dict()})


def _emit(data: dict) -> None:
    """JSON on stdout as the commands write it (ASCII escapes where stdout's encoding is not a Unicode one)."""
    click.echo(json.dumps(data, ensure_ascii=not console.writes_unicode(), indent=2, default=str))


def interrupted_line(command: str | None, written: list[Path]) -> str:
    """What is true after an interruption: which files are new (each whole), and that the rest is as it was."""
    if not written:
        if command == "merge":
            return "已中斷，未產生新的彙整活頁簿；先前的檔案保持不變。"
        return "已中斷，未寫入任何新檔案；先前的檔案保持不變。"
    first = written[0].name
    more = f"等 {len(written)} 個檔案" if len(written) > 1 else ""
    return f"已中斷：已完整寫入 {first}{more}，其餘未完成的檔案未寫入；先前的檔案保持不變。"


def run(command_line: Callable[[], None], argv: list[str]) -> int:
    """Run the command line; the exit code, however it ends."""
    interrupt.install()
    as_json = json_wanted(argv)
    try:
        command_line()
        return 0
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if not isinstance(code, int):
            click.echo(code, err=True)
            return 1
        return code
    except interrupt.Interrupted as exc:
        say(interrupted_line(command_name(argv), files.committed()), as_json=as_json, code="interrupted")
        return exc.exit_code
    except files.OutputError as exc:
        write_failed(exc, as_json=as_json)
        return EXIT_CANNOT_WRITE
    except OSError as exc:
        say(files.describe(exc), as_json=as_json, code="io-error")
        return EXIT_CANNOT_WRITE


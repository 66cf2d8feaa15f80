"""The ``qos-xl`` commands: each parses its options, calls one library function, renders text or ``--json``.

Commands work in a workspace (``core/workspace.py``): found from the current folder
upwards or given with ``--config``; the default folders are the workspace's. Heavy
modules (pandas, pandera, xlsxwriter) are imported inside the commands so that
``qos-xl --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gettext
import json
import sys
from pathlib import Path

import click

from qos_xl import __version__
from qos_xl.cli import console, ending, helpformat, render, zh
from qos_xl.core import files, platform
from qos_xl.core.config import ConfigError
from qos_xl.core.vocabulary import CHECKPOINT_MONTHS, CHECKPOINT_NAMES, SELFCHECK_MONTHS
from qos_xl.core.workspace import Workspace, open_workspace
from qos_xl.process import set_up_process

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
WORKFLOW = ("init", "templates", "ingest", "validate", "merge", "status")   # the order --help lists them in


class Context:
    """The workspace, and its plan and registry loaded once."""

    def __init__(self, workspace: Workspace):
        from qos_xl.core.catalogue import load_plan
        from qos_xl.core.registry import load_registry

        self.workspace = workspace
        self.plan = load_plan(workspace.config_file("plan.csv"), workspace.config_file("settings.csv"))
        self.registry = load_registry(workspace.config_file("units.csv"), self.plan.organisation)

    @functools.cached_property
    def sender(self):
        """Who signs the replies, by when units resend, whom they call (settings.csv): the replies' and the CLI's."""
        from qos_xl.output.reply import Sender

        return Sender.from_settings(self.plan.settings)


class Refused(click.ClickException):
    """A request qos-xl will not carry out (a usage or configuration error): ``錯誤：…`` and exit 2."""

    exit_code = 2


FOLDER = dict(type=click.Path(file_okay=False, path_type=Path), metavar="資料夾")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="以 JSON 輸出結果（供程式使用）。")


def common_options(func):
    """--config and --json, and turning a broken config into exit 2 with zh-TW lines."""

    @click.option("--config", "config_dir", default=None, **FOLDER,
                  help="計畫與單位名冊所在資料夾（plan.csv、settings.csv、units.csv）。"
                       "預設：從目前資料夾往上找到的工作區的 workbooks/config/。")
    @JSON_OPTION
    @functools.wraps(func)
    def wrapper(config_dir, as_json, **kwargs):
        try:
            ctx = Context(open_workspace(config_dir))
            return func(ctx, as_json=as_json, **kwargs)
        except ConfigError as exc:
            lines = [f"設定錯誤：{line}" for line in exc.messages]
            click.echo("\n".join(lines), err=True)
            if as_json:
                emit_json({"error": {"code": "config", "message": "\n".join(lines)}})
            sys.exit(EXIT_USAGE)

    return wrapper


def emit_json(data: dict) -> None:
    """The result as JSON; as ASCII escapes when standard output's encoding is not a Unicode one."""
    click.echo(json.dumps(data, ensure_ascii=not console.writes_unicode(), indent=2, default=str))


def parse_period_option(value: str | None, months: tuple[int | None, ...] = CHECKPOINT_MONTHS):
    """--period as typed (102-06, 102-6, 102/06, 102年6月), one of ``months``; a zh-TW usage error otherwise."""
    from qos_xl.core.values import Period

    if value is None:
        return None
    try:
        return Period.parse(value, months)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None


def template_period(value: str | None):
    """--period of ``templates``: a self-check period; another checkpoint is told what its templates are."""
    from qos_xl.core.values import Period

    if value is None:
        return None
    try:
        chosen = Period.parse(value)
    except ValueError:                        # unreadable, or no checkpoint: said for the months templates take
        return parse_period_option(value, SELFCHECK_MONTHS)
    if chosen.month in SELFCHECK_MONTHS:
        return chosen
    months = "或 ".join(f"{chosen.year}-{m:02d} " for m in SELFCHECK_MONTHS).strip()
    if chosen.month is None:
        why = f"工作計畫範本每次都會與自行檢核表範本一起產生，期別請寫 {months}"
    else:
        why = f"{CHECKPOINT_NAMES[chosen.month]}沒有範本（由各單位自行撰寫），範本的期別請寫 {months}"
    raise click.BadParameter(f"「{value}」：{why}。", param_hint="--period")


def progress_bar(total: int, label: str):
    """A progress bar on a terminal, nothing when output is piped."""
    return click.progressbar(length=total, label=label, file=sys.stderr) if sys.stderr.isatty() and total > 1 else _NoBar()


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


class Command(click.Command):
    """A qos-xl command: its usage line in zh-TW, its help laid out in terminal columns."""

    context_class = helpformat.Context

    def __init__(self, *args, options_metavar: str = "[選項]", **kwargs):
        super().__init__(*args, options_metavar=options_metavar, **kwargs)


class Group(click.Group):
    """The qos-xl group: commands in the order of the year's work, and click's own words in zh-TW."""

    command_class = Command
    context_class = helpformat.Context

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands, key=lambda name: WORKFLOW.index(name) if name in WORKFLOW else len(WORKFLOW))

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """click's main in zh-TW; a usage error is also a JSON ``error`` on stdout when ``--json`` was asked for."""
        with zh.speaking_zh_tw():
            if not standalone_mode:
                return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            try:
                code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            except click.ClickException as exc:
                exc.show()
                if ending.json_wanted(list(sys.argv[1:] if args is None else args)):
                    emit_json({"error": {"code": "usage", "message": exc.format_message()}})
                sys.exit(exc.exit_code)
            except click.Abort:
                click.echo(gettext.gettext("Aborted!"), err=True)     # click's own line, in zh-TW
                sys.exit(1)
            except OSError as exc:          # a closed pipe (qos-xl status | head): nothing more to say
                if exc.errno != errno.EPIPE:
                    raise
                sys.exit(1)
            sys.exit(code if isinstance(code, int) else 0)


def example(*lines: str) -> str:
    """A --help epilog: the example command lines, kept as written."""
    return "\b\n範例：\n" + "\n".join(f"  {line}" for line in lines)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]}, options_metavar="[選項]",
             subcommand_metavar="指令 [引數]...",
             epilog=example("qos-xl init 年度資料夾 --demo", "qos-xl merge --help"))
@click.version_option(__version__, prog_name="qos-xl", help="顯示版本後結束。", message="%(prog)s 版本 %(version)s")
def cli():
    """qos-xl：工務局提升服務品質執行計畫的範本產生、檢核與彙整工具。

    指令依一年的工作順序列出。每個指令都在「工作區」中執行：放有 workbooks/config/ 的資料夾，
    由目前資料夾往上尋找；qos-xl init 可建立一個。
    """


def existing(ctx: click.Context, param, paths: tuple[Path, ...]) -> tuple[Path, ...]:
    """The paths given, each of which must exist: the first that does not is named, and nothing else."""
    for path in paths:
        if not path.exists():
            raise click.UsageError(f"找不到「{path}」。請確認路徑與檔名是否正確（含空格的路徑請加上引號）。", ctx)
    return paths


FEEDBACK_HELP = "為有錯誤、警告或品質提示的檔案產生標註副本與回覆文字（預設產生；--no-feedback 則不產生）。"

@cli.command(epilog=example("qos-xl init 102年度服務品質 --demo"))
@click.argument("folder", required=False, default=".", type=click.Path(path_type=Path), metavar="[資料夾]")
@click.option("--demo", is_flag=True, help="收件匣放入示範年度的檔案，可立即試用 validate、merge、status。")
@JSON_OPTION
def init(folder, demo, as_json):
    """建立工作區（預設：目前資料夾）：內附的計畫與單位名冊、收件匣、輸出資料夾與說明.txt。"""
    from qos_xl.output.workspace import InitError, make_workspace

    try:
        made = make_workspace(folder, demo=demo)
    except InitError as exc:
        raise Refused(str(exc)) from None
    if as_json:
        emit_json(made.to_dict())
    else:
        render.init(made)


@cli.command(epilog=example("qos-xl templates", "qos-xl templates --period 102-12 --unit SEW"))
@click.option("--out", "out_dir", default=None, **FOLDER, help="範本輸出資料夾（預設：工作區的 workbooks/templates/）。")
@click.option("--period", default=None, metavar="期別",
              help="自行檢核表的期別：102-06 或 102-12（也可寫 102-6、102/06、102年6月；預設：計畫年度-06）。")
@click.option("--unit", "unit_codes", multiple=True, metavar="代碼", help="只產生這些單位代碼的範本，可重複指定。")
@common_options
def templates(ctx: Context, *, as_json, out_dir, period, unit_codes):
    """產生各單位的自行檢核表與工作計畫範本。"""
    from qos_xl.output.templates import write_templates
    from qos_xl.core.values import Period

    out_dir = out_dir or ctx.workspace.templates
    chosen = template_period(period) or Period(ctx.plan.year, 6)
    units = []
    for code in unit_codes:
        unit = ctx.registry.by_code(code) or ctx.registry.find(code)
        if unit is None:
            raise click.BadParameter(f"單位名冊中沒有「{code}」。可用的代碼：{', '.join(u.code for u in ctx.registry.units)}",
                                     param_hint="--unit")
        units.append(unit)
    try:
        written = write_templates(ctx.plan, ctx.registry, out_dir, chosen, units or None)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    if as_json:
        emit_json({"period": str(chosen), "files": [str(p) for p in written]})
        return
    click.echo(f"已產生 {len(written)} 個範本（{chosen} 期），存放於 {out_dir}/：")
    for path in written:
        click.echo(f"  {path.name}")


@cli.command(epilog=example("qos-xl validate", "qos-xl validate \"養工處 自行檢核表.xlsx\""))
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[路徑]...", callback=existing)
@click.option("--feedback/--no-feedback", default=True, help=FEEDBACK_HELP)
@click.option("--out", "out_dir", default=None, **FOLDER, help="回饋副本的輸出資料夾，其下的 feedback/（預設：工作區的 outputs/）。")
@common_options
def validate(ctx: Context, *, as_json, paths, feedback, out_dir):
    """檢核單位繳交的檔案或資料夾（預設：收件匣中所有檔案），列出每一個問題。"""
    from qos_xl.pipeline.load import list_inbox
    from qos_xl.pipeline.validate import validate_paths

    out_dir = out_dir or ctx.workspace.outputs
    targets = list(paths) or [ctx.workspace.inbox]
    with progress_bar(len(list_inbox(targets)), "檢核中") as bar:
        checked = validate_paths(targets, ctx.plan, ctx.registry, progress=bar.update)
    written, failure = [], None
    if feedback:
        try:
            with files.folder_lock(out_dir):
                written = run_feedback(ctx, checked.files, out_dir, targets)
        except files.OutputError as exc:     # the report is still printed, then what could not be written
            written, failure = exc.written, exc
    result = checked.to_dict()
    result["feedback"] = [str(p) for p in written]
    if as_json and failure is None:
        emit_json(result)
    elif not as_json:
        render.files(checked.files)
        if written:
            click.echo("")
            render.feedback_written(len(written) // 2, out_dir / "feedback")
            render.unset_reply_settings(ctx.sender, ctx.workspace.config_file("settings.csv"))
    if failure is not None:
        ending.write_failed(failure, as_json=as_json, data=result)
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if result["valid"] else EXIT_PROBLEMS)


def run_feedback(ctx: Context, reports, out_dir: Path, sources: list[Path]) -> list[Path]:
    """Annotated copies and reply texts under OUT/feedback; a misplaced folder is a usage error."""
    from qos_xl.output.feedback import FeedbackError, write_feedback

    try:
        return write_feedback(reports, out_dir / "feedback", sources, ctx.sender)
    except FeedbackError as exc:
        raise Refused(str(exc)) from None


def inbox_options(default_period: str):
    """--inbox and --period, shared by merge and status; ``default_period`` says what the command does without it."""
    def add(func):
        func = click.option("--period", default=None, metavar="期別",
                            help="期別：102（工作計畫）、102-06（期中自行檢核）、102-08（參獎申請書）或 102-12（年度自行檢核）；"
                                 f"也可寫 102-6、102/06、102年6月。{default_period}")(func)
        return click.option("--inbox", "inbox", default=None, **FOLDER,
                            help="收件匣資料夾（預設：工作區的 workbooks/inbox/）。")(func)
    return add


def inbox_and_period(ctx: Context, inbox: Path | None, period: str | None):
    """The inbox folder (which must exist) and the period asked for (of the plan's year), or exit 2."""
    inbox = inbox or ctx.workspace.inbox
    if not inbox.is_dir():
        raise Refused(f"找不到收件匣資料夾 {inbox}。請確認路徑，或以 --inbox 指定。")
    chosen = parse_period_option(period)
    if chosen is not None and chosen.year != ctx.plan.year:
        raise click.BadParameter(f"期別 {chosen} 不屬於 {ctx.plan.year} 年度計畫，請指定 {ctx.plan.year} 年度的期別，"
                                 f"例如 {ctx.plan.year}-06。", param_hint="--period")
    return inbox, chosen


def run_merge(ctx: Context, inbox: Path | None, period: str | None):
    from qos_xl.pipeline.load import list_inbox
    from qos_xl.pipeline.merge import merge

    inbox, chosen = inbox_and_period(ctx, inbox, period)
    with progress_bar(len(list_inbox([inbox])), "讀取與檢核") as bar:
        return merge(inbox, ctx.plan, ctx.registry, chosen, progress=bar.update)


@cli.command("merge", epilog=example("qos-xl merge", "qos-xl merge --period 102-12 --out 給主管"))
@inbox_options("預設為收件匣中最新的自行檢核期別。")
@click.option("--out", "out_dir", default=None, **FOLDER, help="彙整活頁簿的輸出資料夾（預設：工作區的 outputs/）。")
@click.option("--strict", is_flag=True, help="有單位未繳交時也以結束碼 1 結束。")
@click.option("--feedback/--no-feedback", default=True, help=FEEDBACK_HELP)
@common_options
def merge_command(ctx: Context, *, as_json, inbox, period, out_dir, strict, feedback):
    """檢核並彙整收件匣中的檔案，產生全局彙整活頁簿。"""
    inbox, out_dir = inbox or ctx.workspace.inbox, out_dir or ctx.workspace.outputs
    with files.folder_lock(out_dir):          # one run writes an output folder at a time
        result = run_merge(ctx, inbox, period)
        from qos_xl.output.consolidated import output_path, write_consolidated  # after the merge: reading starts before heavy imports

        written, failures, output = [], [], None
        try:
            output = write_consolidated(result, output_path(result, out_dir))
        except files.OutputError as exc:
            if exc.folder_wide:               # a full disk, a read-only folder: nothing else could be written
                raise
            failures.append(exc.alone())      # open in Excel, say: the feedback is still written
        # the rows are in the workbook now: the result without them, and the memory with them, before the JSON
        # report and the feedback workers are made (a city-scale merge holds hundreds of MB of them)
        result = result.written(output)
        platform.return_free_memory()
        data = result.to_dict()
        if feedback:
            try:
                written = run_feedback(ctx, result.files, out_dir, [inbox])
            except files.OutputError as exc:  # whatever was written stays; say what could not be
                written = exc.written
                failures.append(exc)
    data["feedback"] = [str(p) for p in written]
    if as_json and not failures:
        emit_json(data)
    elif not as_json:
        if result.output:
            render.merge(result)
        if written:
            render.feedback_written(len(written) // 2, out_dir / "feedback")
            render.unset_reply_settings(ctx.sender, ctx.workspace.config_file("settings.csv"))
    if failures:
        failures[0].others += sum(1 + f.others for f in failures[1:])
        ending.write_failed(failures[0], as_json=as_json, data=data)
        sys.exit(EXIT_USAGE)
    failed = result.has_problems or (strict and result.waiting)
    sys.exit(EXIT_PROBLEMS if failed else EXIT_OK)


@cli.command(epilog=example("qos-xl status", "qos-xl status --period 102-06 --strict"))
@inbox_options("預設列出全年度各期。")
@click.option("--strict", is_flag=True, help="有單位未繳交或退回待修正時以結束碼 1 結束（全年度：已開始收件的各期）。")
@common_options
def status(ctx: Context, *, as_json, inbox, period, strict):
    """各單位繳交狀況：全年度各期（或 --period 指定的一期）誰交了什麼、誰還沒交。"""
    from qos_xl.pipeline.load import list_inbox
    from qos_xl.pipeline.merge import take_in
    from qos_xl.pipeline.status import status_table

    inbox, chosen = inbox_and_period(ctx, inbox, period)
    with progress_bar(len(list_inbox([inbox])), "讀取與檢核") as bar:   # states only: no rows combined, no rates
        intake = take_in(inbox, ctx.plan, ctx.registry, progress=bar.update, states_only=True)
    table = status_table(intake, chosen)
    if as_json:
        emit_json(table.to_dict())
    else:
        render.status(table)
    sys.exit(EXIT_PROBLEMS if strict and any(table.waiting.values()) else EXIT_OK)


@cli.command("ingest", short_help="從郵件取出試算表與參獎申請書等附件，存入收件匣並產生回覆文字。", epilog=example("qos-xl ingest 郵件/*.msg", "qos-xl ingest 匯出的郵件.mbox"))
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="郵件...")
@click.option("--inbox", "inbox", default=None, **FOLDER, help="收件匣資料夾：附件存放於此（預設：工作區的 workbooks/inbox/）。")
@click.option("--receipts", "receipts_dir", default=None, **FOLDER,
              help="每封郵件的回覆文字輸出資料夾（預設：工作區的 outputs/receipts/）。")
@common_options
def ingest_command(ctx: Context, *, as_json, sources, inbox, receipts_dir):
    """從郵件（.eml、.mbox、Maildir、Outlook .msg，或含這些郵件的資料夾）取出試算表與參獎申請書等附件，存入收件匣並產生回覆文字。"""
    from qos_xl.output import receipts
    from qos_xl.pipeline.ingest import ingest

    inbox, receipts_dir = inbox or ctx.workspace.inbox, receipts_dir or ctx.workspace.receipts
    try:
        receipts.check_folder(receipts_dir, inbox)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--receipts") from None
    with files.folder_lock(inbox):            # one run saves into an inbox at a time: no file saved twice
        result = receipts.write_receipts(ingest(list(sources), inbox, ctx.plan, ctx.registry), receipts_dir, ctx.sender)
    if as_json:
        emit_json(result.to_dict())
    else:
        render.ingest(result)
        if any(message.receipt for message in result.messages):
            render.unset_reply_settings(ctx.sender, ctx.workspace.config_file("settings.csv"))
    sys.exit(EXIT_PROBLEMS if result.has_problems else EXIT_OK)


def main():
    """The ``qos-xl`` program: the command line, its exit code."""
    set_up_process()
    console.make_output_safe()
    # signals, and outputs that cannot be written, end the run in one zh-TW line (cli/ending.py)
    code = ending.run(lambda: cli(prog_name="qos-xl"), sys.argv[1:])
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):   # a closed pipe: nothing more to say
            stream.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()

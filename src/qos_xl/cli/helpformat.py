"""click's help pages laid out in terminal columns: a Chinese character takes two, and a line may break between two.

click measures help text in characters and breaks lines only at spaces, which zh-TW text
has none of: options were misaligned and long help ran past the terminal's edge. This
formatter (click's public ``HelpFormatter``, used through ``Context.formatter_class``)
keeps click's layout and measures it in columns; ASCII words (options, paths) are never
split, and no line starts with closing punctuation or ends with opening punctuation.
"""

from __future__ import annotations

import re

import click

from qos_xl.core.text import display_width

CLOSING = set("，。、；：？！）」』】》〉,.;:?!)")
OPENING = set("（「『【《〈")
_TOKEN = re.compile(r"[ \t]+|[!-~]+|.", re.DOTALL)   # spaces | an ASCII word | one other character




def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns (a longer ASCII word keeps a line of its own)."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if tokens and not tokens[-1].isspace() and (token[0] in CLOSING or tokens[-1][-1] in OPENING):
            tokens[-1] += token        # punctuation stays with what it opens or closes
        else:
            tokens.append(token)
    lines, line = [], ""
    for token in tokens:
        if line and display_width(line + token) > width:
            lines.append(line.rstrip())
            line = "" if token.isspace() else token
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def join_lines(lines: list[str]) -> str:
    """A paragraph's source lines as one: a space between two ASCII ends, nothing between Chinese."""
    text = ""
    for line in (raw.strip() for raw in lines):
        if text and line and (text[-1].isascii() or line[0].isascii()):
            text += " "
        text += line
    return text


class HelpFormatter(click.HelpFormatter):
    """click's help formatter, measuring in terminal columns."""

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        for number, block in enumerate(re.split(r"\n\s*\n", text.strip("\n"))):
            if number:
                self.write("\n")
            lines = block.splitlines()
            if lines and lines[0].strip() == "\b":
                self.write("".join(f"{indent}{line}\n" for line in lines[1:]))
                continue
            for line in wrap(join_lines(lines), max(self.width - self.current_indent, 20)):
                self.write(f"{indent}{line}\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max((display_width(first) for first, _ in rows), default=0), col_max) + col_spacing
        text_width = max(self.width - self.current_indent - first_col - 2, 20)
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - display_width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap(second, text_width) or [""]
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class Context(click.Context):
    """click's context with the column-measuring help formatter."""

    formatter_class = HelpFormatter

"""LibreOffice and poppler for tests: convert a file as a user's LibreOffice would, read a PDF's text.

Each conversion runs with a profile and HOME of its own, so conversions may run side by side.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import need_tool

CSV_UTF8 = "csv:Text - txt - csv (StarCalc):44,34,76,1"
CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"


def convert(source: Path, fmt: str, outdir: Path, *, timeout: int = 180, infilter: str | None = None) -> Path:
    """``soffice --headless --convert-to FMT``; the converted file (for CSV of all sheets, the folder).

    ``infilter``: how to read the source (``--infilter``), e.g. a CSV read with the zh-TW locale."""
    soffice = need_tool("soffice")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(outdir / ".home")}
    options = [f"--infilter={infilter}"] if infilter else []
    subprocess.run([soffice, f"-env:UserInstallation=file://{outdir / '.profile'}", "--headless", *options, "--convert-to", fmt,
                    "--outdir", str(outdir), str(source)], check=True, env=env, capture_output=True, timeout=timeout)
    if fmt == CSV_ALL_SHEETS:
        return outdir
    out = outdir / f"{Path(source).stem}.{fmt.split(':', 1)[0]}"
    assert out.exists(), f"LibreOffice made no {out.name}"
    return out


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page of a PDF (pdftotext -layout)."""
    pdftotext = need_tool("pdftotext")
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, timeout=120).stdout
    return text.decode("utf-8").split("\f")[:-1] if text.endswith(b"\f") else text.decode("utf-8").split("\f")

"""What validation gives the later stages: one report per file, the normalised rows and where each file's table lies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qos_xl.core.vocabulary import IGNORED

if TYPE_CHECKING:
    import pandas as pd

    from qos_xl.core.report import FileReport
    from qos_xl.pipeline.locate import Layout


@dataclass
class Checked:
    """The validation of a batch of files: one report per file, the normalised rows and where each file's table lies."""

    files: list[FileReport]
    selfcheck: pd.DataFrame
    workplan: pd.DataFrame
    headers: pd.DataFrame
    layouts: dict[int, Layout] = field(default_factory=dict)   # file id -> its sheet and columns (cells of later stages)

    def to_dict(self) -> dict:
        return {"valid": all(f.valid or f.state == IGNORED for f in self.files),
                "files": [f.to_dict() for f in self.files]}

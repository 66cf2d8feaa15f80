"""Shared fixtures: the repository's shipped plan and registry, and tool lookups."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from qos_xl.core.catalogue import load_plan
from qos_xl.core.registry import load_registry
from qos_xl.data import demo_inbox

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "workbooks" / "config"
DEMO_INBOX = Path(str(demo_inbox()))    # the demo year's inbox, shipped in the package


@pytest.fixture(scope="session")
def plan():
    return load_plan(CONFIG / "plan.csv", CONFIG / "settings.csv")


@pytest.fixture(scope="session")
def registry(plan):
    return load_registry(CONFIG / "units.csv", plan.organisation)


def need_tool(name: str) -> str:
    """The path of an external program; skipped locally when absent, a failure in CI."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI (.ci/run installs it)")
        pytest.skip(f"{name} not installed")
    return path


@pytest.fixture
def pools(monkeypatch):
    """Every ``WorkerPool`` made in this test, each with ``total`` (tasks given) and ``yielded`` (outcomes taken):
    proof that worker processes did the work, not the one-at-a-time path."""
    from qos_xl.pipeline import workers

    made = []

    class Counted(workers.WorkerPool):
        def __init__(self, *args, **kwargs):
            self.yielded = 0
            super().__init__(*args, **kwargs)
            made.append(self)

        def outcomes(self):
            for outcome in super().outcomes():
                self.yielded += 1
                yield outcome

    monkeypatch.setattr(workers, "WorkerPool", Counted)
    return made

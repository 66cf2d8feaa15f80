"""The declared dependency floors are the versions CI installs to run the suite at its minimum."""

from __future__ import annotations

import re
import tomllib

from conftest import REPO


def _floors() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floors = {}
    for spec in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^]]*])?>=([0-9.]+)(?:\s*;.*)?", spec.strip())
        assert m, f"{spec!r}: every dependency has a floor (>=), checked by .ci/run"
        floors[m.group(1).lower()] = m.group(2)
    return floors


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / ".ci" / "minimum-versions.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def _same(floor: str, pin: str) -> bool:
    a, b = [int(x) for x in floor.split(".")], [int(x) for x in pin.split(".")]
    width = max(len(a), len(b))
    return a + [0] * (width - len(a)) == b + [0] * (width - len(b))


def test_every_floor_is_pinned_for_the_minimum_run():
    floors, pins = _floors(), _pins()
    assert floors.keys() == pins.keys()
    assert {n: (f, pins[n]) for n, f in floors.items() if not _same(f, pins[n])} == {}

"""qos-xl as the secretariat gets it: a wheel installed into a fresh venv, run from a folder of the clerk's own.

The wheel is built from a copy of the checkout (so nothing lands in it) without build
isolation, and installed into a new venv with no network: the venv gets the wheel itself
(package, package data, the ``qos-xl`` console script) and, through a ``.pth`` line, the
dependencies already installed in the project's venv. Every command then runs with its
working folder outside the checkout, so only what the wheel ships can be found.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from qos_xl.core.config import CONFIG_FILES
from qos_xl.data import bundled_config

from conftest import CONFIG, DEMO_INBOX, REPO


def test_the_repository_workspace_and_the_package_ship_the_same_plan():
    """One plan: the repository's workbooks/config/ (the development workspace) is the bundled one."""
    for name in CONFIG_FILES:
        assert (CONFIG / name).read_bytes() == (bundled_config() / name).read_bytes(), (
            f"workbooks/config/{name} differs from src/qos_xl/data/config/{name}: "
            f"copy the one you edited over the other (the package ships src/qos_xl/data/)")


def run(args, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, dict]:
    """The wheel, the bin folder of a fresh venv it is installed in, and an environment without the project's."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                 "-w", tmp / "dist", source], tmp, env)
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp / "dist").glob("qos_xl-*.whl")
    venv = tmp / "venv"
    assert run([sys.executable, "-m", "venv", "--without-pip", venv], tmp, env).returncode == 0
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    done = run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel], tmp, env)
    assert done.returncode == 0, done.stderr
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp, env).stdout.strip()
    # the dependencies, from the project's venv (a path line; that folder's own .pth files, such as the
    # editable install of this checkout, are not processed)
    Path(purelib, "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return wheel, bin_dir, env


@pytest.mark.install
def test_the_wheel_ships_the_package_data(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in CONFIG_FILES:
        assert f"qos_xl/data/config/{name}" in names
    assert {f"qos_xl/data/demo/{p.name}" for p in DEMO_INBOX.iterdir()} <= names
    assert "qos_xl/cli/locale/zh_TW/LC_MESSAGES/qos_xl.mo" in names
    assert not any(n.startswith(("tests/", "workbooks/", "bench/")) for n in names)


@pytest.mark.install
def test_a_clerk_installs_the_wheel_and_runs_a_year_from_a_workspace(installed, tmp_path):
    _, bin_dir, env = installed
    qos = bin_dir / "qos-xl"
    where = run([bin_dir / "python", "-c", "import qos_xl; print(qos_xl.__file__)"], tmp_path, env).stdout
    assert where.startswith(str(bin_dir.parent)), where      # the wheel's copy, not the checkout's
    made = run([qos, "init", "--demo", "ws"], tmp_path, env)
    assert made.returncode == 0, made.stderr
    assert "已建立 qos-xl 工作區" in made.stdout
    merged = run([qos, "merge", "--json"], tmp_path / "ws" / "workbooks", env)
    assert merged.returncode == 1, merged.stderr            # the demo has a rejected file on purpose
    data = json.loads(merged.stdout)
    assert data["output"] == "../outputs/102年度提升服務品質彙整_102-12.xlsx" and len(data["files"]) == 31
    assert (tmp_path / "ws" / "outputs" / "102年度提升服務品質彙整_102-12.xlsx").stat().st_size > 10_000
    assert sorted(p.name for p in (tmp_path / "ws" / "outputs" / "feedback").iterdir())
    made_templates = run([qos, "templates"], tmp_path / "ws" / "workbooks", env)
    assert made_templates.returncode == 0, made_templates.stderr
    assert len(list((tmp_path / "ws" / "workbooks" / "templates").glob("*.xlsx"))) == 20
    helped = run([qos, "--help"], tmp_path, env)
    assert helped.stdout.startswith("用法： qos-xl [選項]")   # the zh-TW catalogue came with the wheel
    outside = run([qos, "status"], tmp_path, env)
    assert outside.returncode == 2 and "qos-xl init" in outside.stderr

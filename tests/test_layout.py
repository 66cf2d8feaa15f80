"""The layout keeps to the pipeline: a folder imports only from the folders below it, and no modules import each other in a circle.

core (the contract's data and words, the shared seams) <- intake (files and mail as they
arrive) <- pipeline (read, validate, merge, ingest) <- output (what qos-xl writes) <- cli.
Every import counts, at the top of a module, inside a function or for type checking only:
each one is a dependency a maintainer has to follow.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "qos_xl"
LAYERS = {"core": 1, "process": 1, "data": 1, "intake": 2, "pipeline": 3, "output": 4, "cli": 5, "__main__": 6}


def module_name(path: Path) -> str:
    parts = ["qos_xl", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: dict[str, Path]) -> list[tuple[str, int]]:
    """The qos_xl modules ``path`` imports, with the line: ``from a.b import c`` is a.b.c when c is a module;
    a relative import is resolved against the module's own package."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.startswith("qos_xl")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            if not base.startswith("qos_xl"):
                continue
            for alias in node.names:
                name = f"{base}.{alias.name}"
                found.append((name if name in known else base, node.lineno))
    return [(name, line) for name, line in found if name in known]


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {target for target, _ in imports(path, known) if target != name} for name, path in known.items()}


def test_the_package_is_read():
    names = modules()
    assert {"qos_xl.core.vocabulary", "qos_xl.intake.zipguard", "qos_xl.pipeline.merge", "qos_xl.output.receipts",
            "qos_xl.cli.app"} <= set(names)
    assert "qos_xl.core.files" in graph()["qos_xl.cli.app"]       # ``from qos_xl.core import files``: the module


def test_every_folder_has_its_place():
    """A new folder (or top-level module) is placed in LAYERS, so that its imports are checked too."""
    assert {name.split(".")[1] for name in modules() if name.count(".")} - set(LAYERS) == set()


def test_no_folder_imports_from_a_folder_above_it():
    known = modules()
    upward = [f"{name} (line {line}) imports {target}"
              for name, path in known.items() if layer(name)
              for target, line in imports(path, known) if layer(target) > layer(name)]
    assert upward == []


def test_no_modules_import_each_other_in_a_circle():
    edges = graph()
    circles, index, low, stack, on_stack = [], {}, {}, [], set()

    def visit(node: str) -> None:                  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert circles == []


def test_a_circle_and_an_upward_import_are_caught(tmp_path, monkeypatch):
    """The checks above can fail: a made-up package where intake imports output (relatively, inside a function),
    output imports intake, and a folder has no place."""
    package = tmp_path / "qos_xl"
    for name, text in {"__init__.py": "", "intake/__init__.py": "", "output/__init__.py": "", "extra/__init__.py": "",
                       "intake/a.py": "def f():\n    from ..output import b\n",
                       "output/b.py": "from qos_xl.intake.a import f\n"}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    assert graph()["qos_xl.intake.a"] == {"qos_xl.output.b"} and graph()["qos_xl.output.b"] == {"qos_xl.intake.a"}
    for check in (test_no_folder_imports_from_a_folder_above_it, test_no_modules_import_each_other_in_a_circle,
                  test_every_folder_has_its_place):
        try:
            check()
        except AssertionError:
            continue
        raise AssertionError(f"{check.__name__} passed on a package that breaks it")

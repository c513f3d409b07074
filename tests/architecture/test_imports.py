"""Imports go one way between apps, and project modules import each other without cycles.

The layers are written once, as an import-linter contract in pyproject.toml (``[tool.importlinter]``):
composition root (meetpilot.api, urls, asgi, routing, celery, health) > meetings > knowledge > ai >
integrations > accounts > core (meetpilot.settings, apikit, errors, embedded_db). ``lint-imports``
checks it by hand as well.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

from tests.architecture._source import APP_PACKAGES, ROOT

# Cycles allowed between modules: a model and its manager (the tenant manager's type hints name
# Company, whose app's models use the manager).
ALLOWED_CYCLES = [frozenset({"accounts.models", "accounts.tenancy"})]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint_imports(cwd: Path, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT_IMPORTS, "--config", str(config), "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


# --- the checkers themselves -------------------------------------------------------------------------


def test_cycle_finder_reports_each_cycle_once_and_nothing_else():
    graph = grimp.ImportGraph()
    for importer, imported in [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a"), ("d", "e"), ("e", "f"),
                               ("f", "e"), ("g", "g")]:
        graph.add_import(importer=importer, imported=imported)
    assert cycles(graph) == [["a", "b", "c"], ["e", "f"]]
    graph.remove_import(importer="c", imported="a")
    assert cycles(graph) == [["e", "f"]]


def test_the_layers_contract_fails_on_an_upward_import(tmp_path):
    """The real contract from pyproject.toml, run over a skeleton of the project with one bad import."""
    modules = ["meetpilot/api", "meetpilot/urls", "meetpilot/asgi", "meetpilot/routing", "meetpilot/celery",
               "meetpilot/health", "meetpilot/settings/__init__", "meetpilot/apikit", "meetpilot/errors",
               "meetpilot/embedded_db", *[f"{app}/__init__" for app in APP_PACKAGES], "accounts/services",
               "meetings/services", "knowledge/services"]
    for module in modules:
        path = tmp_path / f"{module}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (tmp_path / "meetings/services.py").write_text("import knowledge.services\nimport accounts.services\n")
    assert lint_imports(tmp_path, tmp_path / "pyproject.toml").returncode == 0, "a downward import is fine"

    (tmp_path / "accounts/services.py").write_text("def f():\n    from meetings import services\n")
    result = lint_imports(tmp_path, tmp_path / "pyproject.toml")
    assert result.returncode != 0 and "accounts.services -> meetings.services" in result.stdout, result.stdout


# --- the rules -----------------------------------------------------------------------------------------


def test_apps_import_only_downwards():
    result = lint_imports(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_import_cycles_among_project_modules():
    graph = grimp.build_graph(*APP_PACKAGES, cache_dir=None)
    assert "meetings.live.runner" in graph.modules  # the whole tree is in the graph
    found = [cycle for cycle in cycles(graph) if frozenset(cycle) not in ALLOWED_CYCLES]
    report = "; ".join(" <-> ".join(cycle) for cycle in found)
    assert found == [], f"import cycles (modules that reach each other through imports): {report}"

"""The modules of meetings/live import each other without cycles and without lazy imports."""

import ast
from pathlib import Path

LIVE = Path(__file__).resolve().parents[2] / "meetings" / "live"


def _imports() -> dict[str, set[str]]:
    modules = {path.stem for path in LIVE.glob("*.py") if path.stem != "__init__"}
    graph = {}
    for stem in modules:
        tree = ast.parse((LIVE / f"{stem}.py").read_text())
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("meetings.live."):
                    deps.add(node.module.rsplit(".", 1)[1])
                elif node.module == "meetings.live":
                    deps |= {alias.name for alias in node.names if alias.name in modules}
        graph[stem] = deps & modules
    return graph


def test_no_import_cycle_among_the_live_modules():
    graph, done, path = _imports(), set(), []

    def visit(module: str) -> None:
        assert module not in path, "import cycle: " + " -> ".join([*path[path.index(module):], module])
        if module in done:
            return
        path.append(module)
        for dep in graph[module]:
            visit(dep)
        path.pop()
        done.add(module)

    for module in graph:
        visit(module)


def test_project_modules_are_imported_at_the_top():
    for path in LIVE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                lazy = [ast.unparse(n) for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom)]
                assert not lazy, f"{path.name}:{fn.name} imports inside a function: {lazy}"
        assert "importlib" not in path.read_text(), path.name

"""Interfaces stay thin: no function in an API, view, consumer or task module runs past 40 lines.

An interface parses and authorises, calls one service or selector, and renders; anything longer
is a service (or a selector) waiting to be written.
"""

from __future__ import annotations

import ast

from tests.architecture._source import APP_PACKAGES, parse, project_files

MAX_LINES = 40
INTERFACE_MODULES = ("api.py", "views.py", "consumers.py", "tasks.py")


def long_functions(tree: ast.AST, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """(qualified name, lines) of every def longer than ``limit``, methods and nested defs included.

    A function's length runs from its ``def`` line to its last line; decorators do not count.
    """
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                length = child.end_lineno - child.lineno + 1
                if length > limit:
                    found.append((name, length))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def interface_files() -> list[tuple[str, object]]:
    return [(path, file) for path, file in project_files()
            if path.split("/", 1)[0] in APP_PACKAGES and path.rsplit("/", 1)[-1] in INTERFACE_MODULES]


SNIPPET = "\n".join([
    "@decorator",                       # 1: not counted
    "def short():",                     # 2
    *["    x = 1"] * 39,                # 3..41: 40 lines in all
    "class Consumer:",                  # 42
    "    async def receive(self):",     # 43
    *["        y = 2"] * 40,            # 44..83: 41 lines
    "        def inner():",             # 84
    *["            z = 3"] * 41,        # 85..125: 42 lines
])


def test_the_checker_measures_defs_methods_and_nested_functions():
    assert long_functions(ast.parse(SNIPPET)) == [("Consumer.receive", 83), ("Consumer.receive.inner", 42)]
    assert long_functions(ast.parse(SNIPPET), limit=200) == []
    assert ("short", 40) in long_functions(ast.parse(SNIPPET), limit=39)


def test_the_checker_finds_the_interface_modules():
    paths = {path for path, _ in interface_files()}
    assert {"meetings/api.py", "meetings/views.py", "meetings/consumers.py", "knowledge/tasks.py"} <= paths
    assert not any(path.startswith("tests/") for path in paths)


def test_no_interface_function_is_longer_than_40_lines():
    too_long = [f"{path}:{name} ({length} lines)"
                for path, file in interface_files() for name, length in long_functions(parse(file))]
    assert too_long == [], f"interface functions over {MAX_LINES} lines: {too_long}"

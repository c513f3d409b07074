"""The project's own Python files, for the architecture tests (parsed, never imported)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The importable packages of the product itself (bench/, eval/, scripts/ and tests/ use them).
APP_PACKAGES = ("meetpilot", "accounts", "ai", "knowledge", "meetings", "integrations", "workflows")
_SKIP_DIRS = {".venv", "var", "build", "static", "templates", "node_modules", "__pycache__"}


def project_files() -> Iterator[tuple[str, Path]]:
    """Every project .py file as (posix path relative to the repository root, path)."""
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if any(part in _SKIP_DIRS or part.startswith(".") or part.endswith(".egg-info") for part in parts[:-1]):
            continue
        yield "/".join(parts), path


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

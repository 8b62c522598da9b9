"""The house's shape (issue 14, docs/architecture.md), held for every module of services/ and
shared/: short modules and functions; shared/ imports no service; a service imports no other
(only the composition roots — the CLI, the embedded platform, the demo — know them all); and
no API answer is built by hand (a route returns what its declared schema dumps)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for folder in ("services", "shared") for p in (ROOT / folder).rglob("*.py"))
MODULE_LINES = 400
FUNCTION_LINES = 60
API_SERVICES = ("registry", "events", "media", "notify")
# Modules that put the services together: they may know every one.
COMPOSITION_ROOTS = {"services/cli.py", "services/platform.py", "services/__init__.py", "services/demo/__init__.py",
                     "services/demo/upcoming.py"}


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_module_over_400_lines_and_no_function_over_60():
    assert len(SOURCES) > 100
    long = [f"{name(p)}: {len(p.read_text(encoding='utf-8').splitlines())} lines" for p in SOURCES
            if len(p.read_text(encoding="utf-8").splitlines()) > MODULE_LINES]
    long += [f"{name(p)}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines"
             for p in SOURCES for node in ast.walk(tree(p))
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
             and node.end_lineno - node.lineno + 1 > FUNCTION_LINES]
    assert long == []


def test_shared_imports_no_service_and_no_service_imports_another():
    crossing = []
    for path in SOURCES:
        parts = path.relative_to(ROOT).parts
        if name(path) in COMPOSITION_ROOTS:
            continue
        own = parts[1] if parts[0] == "services" and len(parts) > 2 else None
        for module in imported(path):
            if not module.startswith("services."):
                continue
            other = module.split(".")[1]
            if parts[0] == "shared" or (own is not None and other != own):
                crossing.append(f"{name(path)} imports {module}")
    assert crossing == []


def test_no_api_answer_is_built_by_hand():
    """jsonify in a service's API, or a JSON response of a dict no declared schema made, would
    be an answer the OpenAPI document does not describe."""
    by_hand = []
    for path in SOURCES:
        parts = path.relative_to(ROOT).parts
        if parts[0] != "services" or parts[1] not in API_SERVICES:
            continue
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "jsonify":
                by_hand.append(f"{name(path)}:{node.lineno}")
    assert by_hand == []

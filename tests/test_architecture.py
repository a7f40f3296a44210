"""The shape of the code: no import cycle anywhere in ``issuer/``, and each layer imports only
what is below it. The core verifies offline with the standard library and ``cryptography``
alone; the service and the store never see HTTP, forms or templates."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "issuer"

WEB = ("flask", "werkzeug", "marshmallow", "flask_smorest", "webargs", "issuer.api", "issuer.web", "issuer.cli")
FORBIDDEN = {
    "issuer.core": (*WEB, "sqlalchemy", "issuer.service", "issuer.store", "issuer.render"),
    "issuer.service": WEB,
    "issuer.store": (*WEB, "issuer.service"),
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(module: str, path: Path) -> set[str]:
    """Every name the module imports (``from a import b`` counts as ``a`` and ``a.b``),
    wherever the statement is: an import inside a function is an import all the same."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


MODULES = _modules()
IMPORTS = {module: _imports(module, path) for module, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph = {m: sorted(n for n in names if n in MODULES and n != m) for m, names in IMPORTS.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                on_stack.discard(w)
                component.append(w)
            on_stack.discard(v)
            if component:
                found.append(sorted([v, *component]))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_package_is_found() -> None:
    assert {"issuer.core.verify", "issuer.service.issuing", "issuer.store.uow", "issuer.api.v1"} <= set(MODULES)


def test_no_module_of_issuer_takes_part_in_an_import_cycle() -> None:
    assert _cycles() == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    broken = sorted(
        f"{module} imports {name}"
        for module, names in IMPORTS.items()
        if module == layer or module.startswith(layer + ".")
        for name in names
        for banned in FORBIDDEN[layer]
        if name == banned or name.startswith(banned + ".")
    )
    assert broken == []


def test_only_the_store_builds_queries() -> None:
    """SQLAlchemy (and the ORM models) are the store's: other layers see repositories and
    records through the unit of work."""
    outside = sorted(
        f"{module} imports {name}"
        for module, names in IMPORTS.items()
        if not module.startswith(("issuer.store", "issuer.cli"))
        for name in names
        if name == "sqlalchemy" or name.startswith(("sqlalchemy.", "issuer.store.models"))
    )
    assert outside == []


def test_the_check_finds_a_cycle_when_there_is_one(tmp_path: Path) -> None:
    """The test above could pass by finding nothing at all: the same reading of imports
    finds a planted cycle."""
    (tmp_path / "a.py").write_text("from pkg import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from pkg.a import x\n")
    names = {name: _imports(f"pkg.{name}", tmp_path / f"{name}.py") for name in ("a", "b")}
    assert "pkg.b" in names["a"] and "pkg.a" in names["b"]

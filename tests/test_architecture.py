"""The stage order of DESIGN.md, enforced: each module imports only its own or earlier layers,
and no modules import each other in a circle — imports inside functions and under
``TYPE_CHECKING`` included. The rule itself is checked, not a list of exceptions."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import helsestat.errors
import helsestat.model

SRC = Path(__file__).parents[1] / "src" / "helsestat"

#: The layers, earliest first; a module belongs to the longest prefix that names it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("helsestat.errors",),
    ("helsestat.settings", "helsestat.model"),
    ("helsestat.store.db",),
    ("helsestat.reference",),
    ("helsestat.ingest",),
    ("helsestat.validate",),
    ("helsestat.store",),
    ("helsestat.aggregate",),
    ("helsestat.protect",),
    ("helsestat.publish",),
    ("helsestat.statistics",),
    ("helsestat.synth",),
    ("helsestat.build",),
    ("helsestat.api",),
    ("helsestat.cli",),
)
#: Modules with no code of their own (the package root, package data).
NEUTRAL = ("helsestat", "helsestat.data")


def layer_of(module: str) -> int | None:
    """The layer of a dotted module name (None for a neutral one)."""
    best: tuple[int, int] | None = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module == prefix or module.startswith(prefix + ".")
            if inside and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    if best is None:
        if module in NEUTRAL or module.startswith("helsestat.data."):
            return None
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")
    return best[1]


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, root: Path = SRC) -> set[str]:
    """Every helsestat module ``path`` imports, anywhere in the file. ``from a import b``
    names the submodule ``a.b`` when there is one, else ``a``; relative imports resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.add(sub if _exists(sub, root) else module)
    return {m for m in found if m == "helsestat" or m.startswith("helsestat.")}


def _exists(module: str, root: Path) -> bool:
    relative = Path(*module.split(".")[1:])
    return (root / relative).with_suffix(".py").is_file() or (
        root / relative / "__init__.py"
    ).is_file()


@cache
def graph(root: Path = SRC) -> dict[str, set[str]]:
    """module → the helsestat modules it imports, for every module under ``root``."""
    return {module_name(p, root): imports(p, root) for p in sorted(root.rglob("*.py"))}


def backward_imports(edges: dict[str, set[str]]) -> list[str]:
    """Each import of a later layer, as ``a (layer) -> b (layer)``."""
    bad = []
    for module, targets in sorted(edges.items()):
        mine = layer_of(module)
        for target in sorted(targets):
            theirs = layer_of(target)
            if mine is not None and theirs is not None and theirs > mine:
                bad.append(f"{module} ({LAYERS[mine][0]}) -> {target} ({LAYERS[theirs][0]})")
    return bad


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), and modules
    that import themselves."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in edges:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_module_imports_only_its_own_or_earlier_layers() -> None:
    assert backward_imports(graph()) == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert cycles(graph()) == []


def test_every_module_belongs_to_a_layer() -> None:
    for module in graph():
        layer_of(module)  # raises for a module outside every layer


def test_the_checks_catch_a_backward_import_and_a_circle(tmp_path: Path) -> None:
    root = tmp_path / "helsestat"
    (root / "aggregate").mkdir(parents=True)
    (root / "api").mkdir()
    for package in (root, root / "aggregate", root / "api"):
        (package / "__init__.py").write_text("")
    # an import inside a function counts as much as one at the top
    (root / "aggregate" / "a.py").write_text("def f():\n    from helsestat.api import b\n")
    (root / "aggregate" / "c.py").write_text("from . import d\n")
    (root / "aggregate" / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import helsestat.aggregate.c\n"
    )
    (root / "api" / "b.py").write_text("from helsestat.aggregate.a import f\n")
    edges = {module_name(p, root): imports(p, root) for p in sorted(root.rglob("*.py"))}
    assert backward_imports(edges) == [
        "helsestat.aggregate.a (helsestat.aggregate) -> helsestat.api.b (helsestat.api)"
    ]
    assert sorted(cycles(edges)) == [
        ["helsestat.aggregate.a", "helsestat.api.b"],
        ["helsestat.aggregate.c", "helsestat.aggregate.d"],
    ]


def test_stage_folders_exist() -> None:
    for prefixes in LAYERS:
        for prefix in prefixes:
            relative = Path(*prefix.split(".")[1:])
            assert (SRC / relative / "__init__.py").is_file() or (SRC / relative).with_suffix(
                ".py"
            ).is_file(), prefix


@pytest.mark.parametrize("module", [helsestat.errors, helsestat.model])
def test_all_names_exist(module: object) -> None:
    for name in module.__all__:  # type: ignore[attr-defined]
        assert hasattr(module, name)


def test_no_utils_module() -> None:
    assert not list(SRC.rglob("utils*")), "house style: no utils/ grab-bag"

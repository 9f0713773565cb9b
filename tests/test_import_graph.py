"""graphrec's import graph: no cycles, no module over 500 lines, no private name imported
from another module, nothing importing the compatibility module `predict.predictors`.

Every import counts, at module level or inside a function (and under TYPE_CHECKING): an
import moved into a function still ties the two modules together. Run as a script to see
the strongly connected components and their edges:

    python tests/test_import_graph.py [--edges]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "graphrec"
MAX_LINES = 500

#: Scripts and notebooks may import it; graphrec itself imports the modules it re-exports.
COMPATIBILITY = {"graphrec.predict.predictors"}


def modules() -> dict[str, Path]:
    """Every module of graphrec by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(mods: dict[str, Path]) -> dict[str, list[tuple[str, str, int]]]:
    """module -> [(imported module, imported name or "", line)] for graphrec's modules."""
    out: dict[str, list[tuple[str, str, int]]] = {m: [] for m in mods}
    for mod, path in mods.items():
        package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[:len(package) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in mods:  # `from . import checkpoint`: the module itself
                        out[mod].append((sub, "", node.lineno))
                    elif target in mods:
                        out[mod].append((target, alias.name, node.lineno))
            elif isinstance(node, ast.Import):
                out[mod] += [(a.name, "", node.lineno) for a in node.names if a.name in mods]
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: {t for t, _, _ in found if t != m} for m, found in imports(mods).items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def test_no_import_cycles() -> None:
    edges = graph()
    found = cycles(edges)
    detail = [f"{m} -> {sorted(edges[m] & set(c))}" for c in found for m in c]
    assert not found, "import cycles:\n" + "\n".join(detail)


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_is_over_500_lines() -> None:
    sizes = {path.relative_to(ROOT.parent).as_posix(): len(path.read_text().splitlines())
             for path in modules().values()}
    over = {p: n for p, n in sizes.items() if n > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines (split them by concept): {over}"


def test_no_private_name_is_imported_from_another_module() -> None:
    found = [f"{mod} line {line}: {target}.{name}"
             for mod, names in imports(modules()).items() for target, name, line in names
             if name.startswith("_") and not name.startswith("__")]
    assert not found, "make these public where they live, or move them:\n" + "\n".join(found)


def test_nothing_in_graphrec_imports_the_compatibility_module() -> None:
    found = [f"{mod} line {line}" for mod, names in imports(modules()).items()
             for target, _, line in names if target in COMPATIBILITY]
    assert not found, f"import from the modules it re-exports instead: {found}"


def test_the_readme_layout_names_every_module() -> None:
    """README's Development section lists each module by file name, under its folder."""
    readme = (ROOT.parent / "README.md").read_text()
    section = readme[readme.index("## Development"):]
    layout = section[:section.index("- `make test`")]
    missing = []
    for path in modules().values():
        folder = path.parent.relative_to(ROOT.parent).as_posix()
        entry = layout.find(f"`{folder}/`")
        if path.name == "__init__.py":
            if entry < 0:
                missing.append(folder + "/")
            continue
        part = layout[entry:layout.find("\n  - ", entry + 1)] if entry >= 0 else ""
        if f"`{path.name}`" not in part:
            missing.append(path.relative_to(ROOT.parent).as_posix())
    assert not missing, f"README's Development layout does not name: {sorted(missing)}"


if __name__ == "__main__":
    edges = graph()
    for component in cycles(edges):
        print(len(component), component)
        if "--edges" in sys.argv:
            for m in component:
                print("   ", m, "->", sorted(edges[m] & set(component)))
    sizes = sorted(((len(p.read_text().splitlines()), str(p)) for p in modules().values()),
                   reverse=True)
    print("largest:", sizes[:8])

"""The allowed import directions inside adapt, read from the source (AST) of every module.

Every import counts wherever it is written, including lazy ones inside functions; only imports under
`if TYPE_CHECKING:` are left out, since they never run."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import adapt

PKG = Path(adapt.__file__).parent


def _name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:`."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


@cache
def imports() -> dict[str, set[str]]:
    """module -> the adapt modules it imports (`from adapt import rungs` imports adapt.rungs)."""
    files = {_name(p): p for p in PKG.rglob("*.py")}
    out = {}
    for mod, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        skip, found = _type_checking_only(tree), set()
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolved against this module's package
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in files}
        out[mod] = {m for m in found if m == "adapt" or m.startswith("adapt.")}
    return out


def unit(mod: str) -> str:
    """adapt.rag.index -> adapt.rag: the top-level part a module belongs to."""
    return ".".join(mod.split(".")[:2])


def offenders(source: str, targets: tuple[str, ...], exempt: tuple[str, ...] = ()) -> list[str]:
    """'module -> imported' for each module under `source` that imports something under `targets`."""
    under = lambda m, roots: any(m == r or m.startswith(r + ".") for r in roots)  # noqa: E731
    return sorted(f"{m} -> {t}" for m, ts in imports().items() if under(m, (source,)) and m not in exempt
                  for t in ts if under(t, targets))


def test_the_scan_sees_lazy_and_relative_imports():
    assert "adapt.rungs" in imports()["adapt.pipeline"]
    assert "adapt.rag.baseline" in imports()["adapt.rungs.baseline"]  # inside SentenceAnswerer.__init__
    assert "adapt.serve.app" in imports()["adapt.serve"]  # inside serve()
    assert len(imports()) > 40


def test_nothing_imports_the_cli():
    assert offenders("adapt", ("adapt.cli",), exempt=("adapt.__main__",)) == []


def test_models_stand_alone():
    assert offenders("adapt.models", ("adapt.rungs", "adapt.pipeline", "adapt.eval", "adapt.train", "adapt.rag",
                                      "adapt.serve", "adapt.recipe")) == []


def test_retrieval_never_grades_or_trains_and_training_never_grades():
    assert offenders("adapt.rag", ("adapt.eval", "adapt.train")) == []
    assert offenders("adapt.train", ("adapt.eval",)) == []


def test_backends_know_nothing_of_what_uses_them():
    assert offenders("adapt.backends", ("adapt.rungs", "adapt.pipeline", "adapt.eval", "adapt.train", "adapt.rag",
                                        "adapt.serve")) == []


def test_rungs_never_reach_for_eval_serve_or_cli():
    assert offenders("adapt.rungs", ("adapt.eval", "adapt.serve", "adapt.cli")) == []


def reachable(graph: dict[str, set[str]], a: str) -> set[str]:
    """Every node an import path leads to from `a`."""
    seen, todo = set(), [a]
    while todo:
        for b in graph.get(todo.pop(), ()):
            if b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


def test_no_import_cycle_between_top_level_parts():
    graph: dict[str, set[str]] = {}
    for m, ts in imports().items():
        graph.setdefault(unit(m), set()).update(unit(t) for t in ts if unit(t) not in (unit(m), "adapt"))

    reach = {a: reachable(graph, a) for a in graph}
    tangled = {a: {b for b in reach[a] if a in reach.get(b, ())} for a in graph}  # a's cycle mates (a included)
    report = []
    for group in sorted({frozenset(g) for g in tangled.values() if g}, key=sorted):
        edges = sorted(f"{m} -> {t}" for m, ts in imports().items() if unit(m) in group
                       for t in ts if unit(t) in group and unit(t) != unit(m))
        report.append(f"{' <-> '.join(sorted(group))}, by:\n    " + "\n    ".join(edges))
    assert not report, "import cycles between parts of adapt (lazy imports count):\n" + "\n".join(report)


def _is_own_submodule(package: str, module: str) -> bool:
    return module.startswith(package + ".")


def test_no_import_cycle_between_modules():
    """Within a part too. A package's __init__ may hand out its own submodules' classes (backends'
    make_generator), which those submodules' `from adapt.backends import Generation` would count as a
    cycle; only that edge is left out."""
    packages = {m for m in imports() if (PKG.parent / m.replace(".", "/") / "__init__.py").is_file()}
    graph = {m: {t for t in ts if t in imports() and t != m and not (m in packages and _is_own_submodule(m, t))}
             for m, ts in imports().items()}

    reach = {a: reachable(graph, a) for a in graph}
    cycles = sorted({" <-> ".join(sorted({a} | {b for b in reach[a] if a in reach.get(b, ())}))
                     for a in graph if a in reach[a]})
    assert not cycles, "import cycles between modules (lazy imports count):\n" + "\n".join(cycles)

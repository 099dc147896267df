"""The layers import one way (docs/architecture.md): cli -> sweep -> tools/compiler/tb -> machine ->
timing/cost -> kernels -> model -> isa. Every import of an accel module, at the top of a file or inside a
function, must point at the same layer or one below; and no set of modules imports itself round."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "accel"
RANK = {"isa": 0, "model": 1, "kernels": 2, "config": 2, "errors": 2, "timing": 3, "cost": 3, "machine": 4,
        "tools": 5, "compiler": 5, "tb": 5, "sweep": 6, "cli": 7}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int | None:
    """The rank of an accel module (None for the package root, which re-exports the public API)."""
    parts = module.split(".")
    return RANK[parts[1]] if len(parts) > 1 else None


def imports(path: Path) -> set[str]:
    """Every accel module `path` imports (`from accel.x import y` counts as accel.x.y when that is a module)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "accel"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "accel":
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in MODULES else node.module)
    return out


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {m: imports(p) for m, p in MODULES.items()}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) is not None))
def test_imports_point_down(module: str) -> None:
    up = [t for t in GRAPH[module] if (layer(t) if layer(t) is not None else RANK["machine"]) > layer(module)]
    assert not up, f"{module} (layer {module.split('.')[1]}) imports {up} from above it"


def test_model_is_a_leaf() -> None:
    """accel.model imports only numpy, the standard library and accel.isa/accel.model."""
    for m in (m for m in MODULES if m.startswith("accel.model")):
        for node in ast.walk(ast.parse(MODULES[m].read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            for name in names:
                top = name.split(".")[0]
                assert top not in {"numba", "scipy", "cocotb", "matplotlib", "tqdm"}, f"{m} imports {name}"
                if top == "accel":
                    assert name.split(".")[1] in ("isa", "model"), f"{m} imports {name}"


def test_no_import_cycles() -> None:
    """No module reaches itself through imports (package __init__ re-exports excluded)."""
    graph = {m: {t for t in ts if t in GRAPH and MODULES[t].name != "__init__.py"} for m, ts in GRAPH.items()
             if MODULES[m].name != "__init__.py"}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                cycle = stack[stack.index(t):] + [t]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_rule_bites(tmp_path: Path) -> None:
    """The checker sees an upward import inside a function."""
    f = tmp_path / "x.py"
    f.write_text("def f():\n    from accel.kernels import lut\n")
    assert "accel.kernels.lut" in imports(f)

"""Execute every notebook in notebooks/ in a fresh python3 kernel; any exception fails the test.

Each notebook runs top to bottom with cwd = notebooks/ and MPLBACKEND=Agg, 600 s per cell. The
failure message names the notebook, the failing cell (index and source) and the kernel's error.
New notebooks are picked up automatically; an empty notebooks/ folder is itself a failure.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 600


def _tools():
    """nbformat and nbclient, or a skip (an error under CI, where they must be installed)."""
    try:
        import nbclient
        import nbformat
    except ImportError as e:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(f"notebook tests need the test extra: pip install -e '.[test]' ({e})")
    return nbformat, nbclient


def _failure(path: Path, nb, exc: Exception) -> str:
    """The first cell that recorded an error output, its source and the error; else the exception."""
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                trace = "\n".join(out.get("traceback", []))
                return (f"{path.name}: cell {index} raised {out['ename']}: {out['evalue']}\n"
                        f"--- cell source ---\n{cell.source}\n--- traceback ---\n{_strip_ansi(trace)}")
    return f"{path.name}: {type(exc).__name__}: {exc}"


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


# The public API (docs/architecture.md): the package root's names and these packages and modules.
PUBLIC = ("accel.model", "accel.timing", "accel.compiler", "accel.cost", "accel.sweep", "accel.tools", "accel.tb",
          "accel.isa.resources")


def _accel_names(source: str) -> set[str]:
    """Every accel module a cell imports, and every dotted accel.x.y name it uses."""
    import ast

    tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {f"{node.module}.{a.name}" if node.module == "accel" else node.module for a in node.names}
    names |= set(re.findall(r"\baccel(?:\.[A-Za-z_]\w*)+", source))
    return {n for n in names if n.split(".")[0] == "accel"}


def _public(name: str) -> bool:
    import accel

    parts = name.split(".")
    if len(parts) == 1 or parts[1] in accel.__all__ + ["__version__"]:
        return True
    return any(name == p or name.startswith(p + ".") for p in PUBLIC)


def test_public_name_rule():
    bad = "from accel.kernels import rng\nimport accel.isa.spec\nx = accel.machine.Core()\nfrom accel import _table"
    assert sorted(n for n in _accel_names(bad) if not _public(n)) == [
        "accel._table", "accel.isa.spec", "accel.kernels", "accel.machine.Core"]
    assert all(_public(n) for n in _accel_names("import accel\nfrom accel.tools import pe_sim\naccel.Core()\n"
                                                "from accel.isa.resources import EXAMPLES_DIR"))
    assert not _public("accel.isa.spec.REPO_ROOT")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_uses_only_the_public_api(path: Path) -> None:
    """Notebooks are tours for users: they import only what docs/architecture.md calls public."""
    import json

    cells = json.loads(path.read_text())["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            private = sorted(n for n in _accel_names(source) if not _public(n))
            assert not private, f"{path.name}: cell {index} uses {', '.join(private)}, not the public API"


def test_notebooks_folder_is_not_empty():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}; the notebook tour is a deliverable"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat, nbclient = _tools()
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits this environment
    nb = nbformat.read(path, as_version=4)
    assert any(c.cell_type == "code" for c in nb.cells), f"{path.name} has no code cells"
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    failure = None
    try:
        client.execute()
    except Exception as e:  # CellExecutionError, CellTimeoutError, DeadKernelError, ...
        failure = _failure(path, nb, e)
    if failure:
        pytest.fail(failure, pytrace=False)

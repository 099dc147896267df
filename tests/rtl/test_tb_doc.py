"""The worked example of docs/tb.md (a user's own bench for rtl/act_func.v) runs as written on Icarus,
from a folder outside accel, and caches its build in that folder."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from accel.tb import simulator_available

DOC = Path(__file__).resolve().parents[2] / "docs" / "tb.md"
FILES = ("my_act_bench.py", "test_my_act.py")


def example_files() -> dict[str, str]:
    """The python blocks of docs/tb.md whose first line is `# <file name> ...`, by file name."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    out = {}
    for block in blocks:
        m = re.match(r"# (\S+\.py)\b", block)
        if m:
            out[m.group(1)] = block
    return out


def test_the_doc_has_the_example() -> None:
    assert set(FILES) <= set(example_files()), f"docs/tb.md lacks {set(FILES) - set(example_files())}"


@pytest.mark.rtl
def test_the_worked_example_runs_on_icarus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ok, why = simulator_available("icarus")
    if not ok:
        pytest.skip(f"icarus not available: {why}")
    monkeypatch.delenv("ACCEL_SIM_CACHE", raising=False)
    for name, text in example_files().items():
        if name in FILES:
            (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(tmp_path / "test_my_act.py"))["test_act_func"]("icarus")
    assert list((tmp_path / ".sim_cache" / "icarus").glob("act_func-*/.accel_built"))

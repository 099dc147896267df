"""A scoreboard that checks DUT outputs against a model, bit for bit, and reports readably.

Feed it (inputs, DUT output) pairs; it calls the model on the inputs, compares, counts, and
keeps the first few mismatches with their context. `finish()` raises one AssertionError that
lists them, so a failing bench says what went wrong instead of stopping at the first
difference. Floating-point arrays are compared by bit pattern (NaN payloads and -0 count).

    from accel.tb.scoreboard import Scoreboard

    sb = Scoreboard(lambda x: np.float32(x) * 2, name="doubler")
    for x in stimulus:
        await drive(dut, x)
        sb.check(x, read_output(dut), context=f"cycle {cycle}")
    sb.finish()      # AssertionError: doubler: 2 of 1000 mismatched; the first 2: ...

Outputs may be scalars, NumPy arrays or dicts of them (one entry per port); for dicts the
report names the differing keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Mismatch:
    inputs: Any
    expected: Any
    got: Any
    context: str
    details: list[str]


def _bits(a: np.ndarray) -> np.ndarray:
    """Float arrays as their raw bit patterns, so the comparison is bit-exact."""
    if a.dtype.kind in "fc":
        return a.view(f"u{a.dtype.itemsize}")
    return a


def _text(v: Any) -> str:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return f"{int(v):#x}"
    if isinstance(v, (float, np.floating)):
        width = np.dtype(type(v)).itemsize if isinstance(v, np.floating) else 8
        bits = np.array([v]).view(f"u{width}")[0]
        return f"{v!r} ({int(bits):#x})"
    return repr(v)


def differences(expected: Any, got: Any) -> list[str]:
    """Human-readable differences between an expected and an observed output; [] if equal."""
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return [f"expected keys {sorted(expected)}, got {got!r}"]
        return [f"{k}: {d}" for k in expected for d in differences(expected[k], got[k])]
    if isinstance(expected, np.ndarray) or isinstance(got, np.ndarray):
        e, g = np.asarray(expected), np.asarray(got)
        if e.shape != g.shape:
            return [f"shape {g.shape}, expected {e.shape}"]
        bad = np.argwhere(_bits(e) != _bits(g))
        return [f"[{', '.join(map(str, i))}] got {_text(g[tuple(i)])}, expected "
                f"{_text(e[tuple(i)])}" for i in bad[:8]] + (
            [f"... {len(bad) - 8} more elements differ"] if len(bad) > 8 else [])
    if isinstance(expected, (float, np.floating)) or isinstance(got, (float, np.floating)):
        same = np.array_equal(_bits(np.asarray(expected)), _bits(np.asarray(got)))
    else:
        same = bool(expected == got)
    return [] if same else [f"got {_text(got)}, expected {_text(expected)}"]


class Scoreboard:
    """Compare observed outputs with `model(inputs)`; keep the first `keep` mismatches."""

    def __init__(self, model: Callable[[Any], Any], name: str = "scoreboard", keep: int = 5):
        self.model, self.name, self.keep = model, name, keep
        self.matches = 0
        self.mismatches = 0
        self.first: list[Mismatch] = []

    @property
    def checked(self) -> int:
        return self.matches + self.mismatches

    def check(self, inputs: Any, got: Any, context: str = "") -> bool:
        """Compare one observed output with the model's; True when they agree."""
        expected = self.model(inputs)
        details = differences(expected, got)
        if not details:
            self.matches += 1
            return True
        self.mismatches += 1
        if len(self.first) < self.keep:
            self.first.append(Mismatch(inputs, expected, got, context, details))
        return False

    def add_bulk(self, matches: int, mismatches: int = 0) -> None:
        """Count comparisons made elsewhere (e.g. in RTL over a memory file)."""
        self.matches += matches
        self.mismatches += mismatches

    def report(self) -> str:
        head = f"{self.name}: {self.mismatches} of {self.checked} mismatched"
        if not self.mismatches:
            return head
        lines = [f"{head}; the first {len(self.first)}:"]
        for k, m in enumerate(self.first, 1):
            where = f" ({m.context})" if m.context else ""
            lines.append(f"  #{k}{where} inputs {_text(m.inputs)}:")
            lines += [f"      {d}" for d in m.details]
        return "\n".join(lines)

    def finish(self) -> None:
        """Raise AssertionError with the report if anything mismatched (or nothing was checked)."""
        if self.mismatches or not self.checked:
            raise AssertionError(self.report() if self.checked else f"{self.name}: nothing checked")

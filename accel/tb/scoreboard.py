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
report names the differing keys. Ints show in hex, tuples of them element by element, and bit
patterns of the formats named in `formats` (fp32, bf16, fp16) as numbers next to their bits:

    Scoreboard(model, formats={"x": "fp32", "y": "fp32"})
    #   y: got 1.0 (0x3f800000), expected 1.0000001 (0x3f800001)
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


FORMATS = {"fp32": (8, np.uint32, np.float32), "bf16": (4, np.uint16, None), "fp16": (4, np.uint16, np.float16)}


def _fp_text(bits: int, kind: str) -> str:
    """A bit pattern of format `kind` as its number next to its bits: '1.5 (0x3fc00000)'."""
    digits, utype, ftype = FORMATS[kind]
    if kind == "bf16":
        value = np.array([bits << 16], dtype=np.uint32).view(np.float32)[0]
    else:
        value = np.array([bits], dtype=utype).view(ftype)[0]
    return f"{str(value)} ({bits:#0{digits + 2}x})"


def _text(v: Any, kind: str | None = None, formats: dict[str, str] | None = None) -> str:
    """Readable text of a value: ints in hex, or as numbers next to their bits when `kind` is
    an fp format (fp32, bf16, fp16); floats with their bits; tuples and lists element by
    element; dicts key by key, each with its format from `formats`."""
    formats = formats or {}
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_text(x, formats.get(str(k)), formats)}" for k, x in v.items()) + "}"
    if isinstance(v, (tuple, list)):
        inner = ", ".join(_text(x, kind, formats) for x in v)
        return f"({inner}{',' if len(v) == 1 else ''})" if isinstance(v, tuple) else f"[{inner}]"
    if isinstance(v, np.ndarray) and v.ndim == 1 and v.size <= 8 and v.dtype.kind in "ui":
        return "[" + ", ".join(_text(x, kind) for x in v.tolist()) + "]"
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        if kind in FORMATS and 0 <= int(v) < 1 << (4 * FORMATS[kind][0]):
            return _fp_text(int(v), kind)
        return f"{int(v):#x}"
    if isinstance(v, (float, np.floating)):
        width = np.dtype(type(v)).itemsize if isinstance(v, np.floating) else 8
        bits = np.array([v]).view(f"u{width}")[0]
        return f"{v!r} ({int(bits):#x})"
    return repr(v)


def differences(expected: Any, got: Any, kind: str | None = None,
                formats: dict[str, str] | None = None) -> list[str]:
    """Human-readable differences between an expected and an observed output; [] if equal.
    `kind` is the fp format of int bit patterns (fp32, bf16, fp16) and `formats` that of each
    key of a dict, so that they show as numbers next to their bits."""
    formats = formats or {}
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return [f"expected keys {sorted(expected)}, got {_text(got, None, formats)}"]
        return [f"{k}: {d}" for k in expected
                for d in differences(expected[k], got[k], formats.get(str(k)), formats)]
    if isinstance(expected, np.ndarray) or isinstance(got, np.ndarray):
        e, g = np.asarray(expected), np.asarray(got)
        if e.shape != g.shape:
            return [f"shape {g.shape}, expected {e.shape}"]
        bad = np.argwhere(_bits(e) != _bits(g))
        return [f"[{', '.join(map(str, i))}] got {_text(g[tuple(i)], kind)}, expected "
                f"{_text(e[tuple(i)], kind)}" for i in bad[:8]] + (
            [f"... {len(bad) - 8} more elements differ"] if len(bad) > 8 else [])
    if isinstance(expected, (float, np.floating)) or isinstance(got, (float, np.floating)):
        same = np.array_equal(_bits(np.asarray(expected)), _bits(np.asarray(got)))
    else:
        same = bool(expected == got)
    return [] if same else [f"got {_text(got, kind)}, expected {_text(expected, kind)}"]


class Scoreboard:
    """Compare observed outputs with `model(inputs)`; keep the first `keep` mismatches.

    `formats` names the fp format of int bit patterns, per input or output key ("y": "fp32",
    "x": "bf16"; the key "" for scalar values), so the report shows them as numbers next to
    their bits; other ints and tuples of them show in hex."""

    def __init__(self, model: Callable[[Any], Any], name: str = "scoreboard", keep: int = 5,
                 formats: dict[str, str] | None = None):
        self.model, self.name, self.keep = model, name, keep
        self.formats = dict(formats or {})
        bad = {k: f for k, f in self.formats.items() if f not in FORMATS}
        if bad:
            raise ValueError(f"unknown fp format(s) {bad}; choose from {', '.join(FORMATS)}")
        self.matches = 0
        self.mismatches = 0
        self.first: list[Mismatch] = []

    @property
    def checked(self) -> int:
        return self.matches + self.mismatches

    def check(self, inputs: Any, got: Any, context: str = "") -> bool:
        """Compare one observed output with the model's; True when they agree."""
        expected = self.model(inputs)
        details = differences(expected, got, self.formats.get(""), self.formats)
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
            lines.append(f"  #{k}{where} inputs {_text(m.inputs, self.formats.get(''), self.formats)}:")
            lines += [f"      {d}" for d in m.details]
        return "\n".join(lines)

    def finish(self) -> None:
        """Raise AssertionError with the report if anything mismatched (or nothing was checked)."""
        if self.mismatches or not self.checked:
            raise AssertionError(self.report() if self.checked else f"{self.name}: nothing checked")

"""$readmemh files from NumPy arrays or Python ints of any width, and back.

A bench writes stimulus and expected results with `write_memh`, has the Verilog load them with
`$readmemh("file.hex", mem, 0, n - 1)`, and runs many cycles without Python in the loop.

    write_memh("w.hex", np.arange(4, dtype=np.int8), width=8)  # negative values: two's compl.
    write_memh("wide.hex", [1 << 511, 5], width=512)
    read_memh("w.hex", width=8, signed=True)                    # array([0, 1, 2, 3], int64)
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np


def _width_of(values: object) -> int | None:
    if isinstance(values, np.ndarray) and values.dtype.kind in "iub":
        return 8 * values.dtype.itemsize
    return None


def write_memh(path: str | os.PathLike, values: Iterable[int] | np.ndarray,
               width: int | None = None) -> int:
    """Write one hex word per line, `width` bits wide (default: the array's item size).

    Negative values are written as `width`-bit two's complement; a value that does not fit
    raises ValueError. Returns the number of words written."""
    width = width or _width_of(values)
    if width is None:
        raise ValueError("give the word width for values that are not a NumPy integer array")
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"expected a 1-D array, got shape {values.shape}")
        values = values.tolist()
    digits, lo, hi = (width + 3) // 4, -(1 << (width - 1)), (1 << width) - 1
    lines = []
    for v in values:
        v = int(v)
        if not lo <= v <= hi:
            raise ValueError(f"value {v:#x} does not fit {width} bits")
        lines.append(f"{v & hi:0{digits}x}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + ("\n" if lines else ""))
    return len(lines)


def read_memh(path: str | os.PathLike, width: int, signed: bool = False) -> np.ndarray:
    """Read a $readmemh file written by `write_memh` (or by hand: `//` comments, `_`
    separators and `@address` jumps are understood, gaps read as 0). Returns an int64 array
    (uint64 for unsigned 64-bit words), or an object array of Python ints above 64 bits."""
    words: dict[int, int] = {}
    addr = 0
    with open(path) as f:
        for line in f:
            for tok in line.split("//", 1)[0].split():
                if tok.startswith("@"):
                    addr = int(tok[1:], 16)
                    continue
                v = int(tok.replace("_", ""), 16)
                if v >> width:
                    raise ValueError(f"{path}: word {addr} = {tok} is wider than {width} bits")
                if signed and v >> (width - 1):
                    v -= 1 << width
                words[addr] = v
                addr += 1
    out = [words.get(a, 0) for a in range(max(words) + 1 if words else 0)]
    dtype = object if width > 64 else np.uint64 if width == 64 and not signed else np.int64
    return np.array(out, dtype=dtype)

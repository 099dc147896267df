"""Operand values of decoded instructions: access patterns, DRAM patterns, tensors.

These are plain, hashable values shared by the assembler, disassembler, encoder and the
emulator. Each knows how to print itself in assembly syntax.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING

import numpy as np

from accel.isa._table import TABLE

DTYPES: dict[str, dict] = TABLE["dtypes"]
DTYPE_BY_CODE = {v["code"]: k for k, v in DTYPES.items()}
SPACES: dict[str, int] = TABLE["spaces"]
SPACE_BY_CODE = {v: k for k, v in SPACES.items()}
ENGINES: dict[str, int] = TABLE["engines"]
ENGINE_BY_CODE = {v: k for k, v in ENGINES.items()}
MAX_DIMS = 3
_first = itemgetter(0)

# NumPy storage type of each element type (bf16 is kept as its raw uint16 bits).
NP_STORAGE = {"fp32": np.uint32, "bf16": np.uint16, "int8": np.int8, "int32": np.int32}


def dtype_bytes(dtype: str) -> int:
    return DTYPES[dtype]["bytes"]


def default_strides(counts: tuple[int, ...]) -> tuple[int, ...]:
    """Row-major element strides for the given dim counts."""
    strides, run = [], 1
    for n in reversed(counts):
        strides.append(run)
        run *= n
    return tuple(reversed(strides))


def _dims_text(dims: tuple[tuple[int, int], ...]) -> str:
    counts = tuple(n for n, _ in dims)
    defaults = default_strides(counts)
    parts = []
    for (n, s), d in zip(dims, defaults, strict=True):
        parts.append(str(n) if s == d else f"{n}@{s}")
    return ", ".join(parts)


@dataclass(frozen=True, init=False)
class AP:
    """An on-chip access pattern: partitions [pstart, pstart+pcount) of SBUF or PSUM, from
    byte `offset` in each partition, elements of `dtype` at element strides `dims`."""

    space: str
    pstart: int
    pcount: int
    offset: int
    dtype: str
    dims: tuple[tuple[int, int], ...]  # (count, element stride), outermost first

    if TYPE_CHECKING:  # derived, not fields: set by __init__
        counts: tuple[int, ...]  # the dims' counts
        free_size: int  # elements per partition
        size: int  # elements in all

    def __init__(self, space: str, pstart: int, pcount: int, offset: int, dtype: str,
                 dims: tuple[tuple[int, int], ...]) -> None:
        # By hand, with the derived sizes and the hash: the emulator asks for the sizes on every
        # instruction and the assembler hashes each pattern it reads (to share one object per pattern);
        # the generated __init__ set each field by object.__setattr__, at about the cost of all of this.
        counts = tuple(map(_first, dims))
        free = math.prod(counts)
        self.__dict__.update(space=space, pstart=pstart, pcount=pcount, offset=offset, dtype=dtype, dims=dims,
                             counts=counts, free_size=free, size=pcount * free,
                             _hash=hash((space, pstart, pcount, offset, dtype, dims)))

    def __hash__(self) -> int:  # the dataclass's own hash (of the fields), computed once
        return self._hash

    def __reduce__(self) -> tuple:  # pickle and copy rebuild it: a string's hash differs between processes
        return AP, (self.space, self.pstart, self.pcount, self.offset, self.dtype, self.dims)

    def element_offsets(self) -> np.ndarray:
        """Element index (relative to offset) of each free-axis element, row-major."""
        idx = np.zeros((), dtype=np.int64)
        for n, s in self.dims:
            idx = idx[..., None] + np.arange(n, dtype=np.int64) * s
        return idx.reshape(-1)

    def __str__(self) -> str:
        prange = f"{self.pstart}:{self.pstart + self.pcount}"
        off = f"{self.offset:#x}" if self.offset else "0"
        return f"{self.space}[{prange}, {off}]:{self.dtype}[{_dims_text(self.dims)}]"


@dataclass(frozen=True, init=False)
class DramAP:
    """A DRAM access pattern over tensor number `tensor`: element `offset`, a partition
    stride (the partition count comes from the on-chip side) and free dims."""

    tensor: int
    offset: int
    pstride: int
    dims: tuple[tuple[int, int], ...]
    name: str = field(default="", compare=False)

    if TYPE_CHECKING:  # derived, not a field: set by __init__
        free_size: int  # elements per partition

    def __init__(self, tensor: int, offset: int, pstride: int, dims: tuple[tuple[int, int], ...],
                 name: str = "") -> None:  # by hand, as AP's
        self.__dict__.update(tensor=tensor, offset=offset, pstride=pstride, dims=dims, name=name,
                             free_size=math.prod(map(_first, dims)), _hash=hash((tensor, offset, pstride, dims)))

    def __hash__(self) -> int:  # the dataclass's own hash (of the compared fields), computed once
        return self._hash

    def __reduce__(self) -> tuple:
        return DramAP, (self.tensor, self.offset, self.pstride, self.dims, self.name)

    def text(self, name: str, pcount: int) -> str:
        off = f"({self.offset})" if self.offset else ""
        dims = ((pcount, self.pstride),) + self.dims
        return f"{name}{off}[{_dims_text(dims)}]"


@dataclass(frozen=True)
class Tensor:
    """A named DRAM tensor declared by the program."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    role: str  # in | out | inout | temp

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __str__(self) -> str:
        return f".tensor {self.name} {self.dtype}[{', '.join(map(str, self.shape))}] {self.role}"


ROLES = ("in", "out", "inout", "temp")


def f32_text(bits: int) -> str:
    """Shortest text for a binary32 immediate that reassembles to the same bits."""
    value = np.array([bits], dtype=np.uint32).view(np.float32)[0]
    if np.isnan(value):
        return f"bits({bits:#010x})"
    if np.isinf(value):
        return "-inf" if value < 0 else "inf"
    text = str(value)  # numpy prints the shortest text that round-trips a float32
    if np.float32(float(text)).view(np.uint32) != bits:
        return f"bits({bits:#010x})"
    return text


def dram_elements(d: DramAP, pcount: int) -> tuple[int, int, slice | np.ndarray]:
    """(lowest, highest element, index) of a DRAM pattern over pcount partitions: the index is a slice
    when the elements are one ascending run, else an int64 array [pcount, free]."""
    dims = ((pcount, d.pstride),) + d.dims
    lo = hi = d.offset
    run, expect = True, 1
    for n, s in reversed(dims):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
        if n > 1:
            run = run and s == expect
            expect *= n
    if run:
        return lo, hi, slice(lo, hi + 1)
    idx = np.zeros((), dtype=np.int64) + d.offset
    for n, s in dims:
        idx = idx[..., None] + np.arange(n, dtype=np.int64) * s
    return lo, hi, idx.reshape(pcount, -1)

"""A core segment: the nodes lowered into one accel program, and the DRAM tensors that join it to
the rest of the model (its inputs, its outputs, the constants the lowerings prepared)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accel.compiler.builder import Builder
from accel.compiler.graph import Graph
from accel.config import CoreConfig

# storage of activations in DRAM and on chip: bf16 (docs/compiler.md, "Numbers")
ACT_DTYPE = "bf16"


@dataclass(frozen=True)
class Planes:
    """How a kept tensor [N, C, H, W] lies in SBUF: per image n and channel tile t (channels
    tiles[t][0].. of count tiles[t][1], on partitions 0..count-1) a bf16 plane of hp x wp with the
    data at row pt, column pl; `padded`: the border must be zero-filled before the data arrive."""

    n: int
    hp: int
    wp: int
    pt: int
    pl: int
    tiles: tuple[tuple[int, int], ...]
    padded: bool

    @property
    def plane_bytes(self) -> int:
        return self.hp * self.wp * 2  # bf16

    def index(self, n: int, channel: int) -> int:
        """Position of image n's tile that starts at `channel` in the list of offsets."""
        t = next(k for k, (c0, _) in enumerate(self.tiles) if c0 == channel)
        return n * len(self.tiles) + t


@dataclass(frozen=True)
class Rows:
    """How a kept matrix [batch, M, K] lies in SBUF as a MatMul with the rows of its output on
    partitions reads its A operand: per batch and block of q rows (on partitions 0..rows-1) the
    block's K bf16 columns, contiguous."""

    batch: int
    m: int
    k: int
    q: int

    @property
    def block_bytes(self) -> int:
        return self.k * 2  # bf16

    def index(self, batch: int, m0: int) -> int:
        """Position of the block of rows from m0 of `batch` in the list of offsets."""
        return batch * -(-self.m // self.q) + m0 // self.q


@dataclass(frozen=True)
class Flat:
    """How a kept element-wise tensor lies in SBUF: one bf16 tile [p, free] (row-major) per tile of
    a layout (`plan`, a tiles.Plan over the tensor's axes: set when the producer is lowered, or given
    beforehand as channels on partitions by whole planes, which convs read too); its consumers run
    over the same tiles."""

    shape: tuple[int, ...]
    plan: object | None = None
    last: str = ""  # with several consumers: the one that frees the tiles ("": the only consumer)

    def frees(self, node: str) -> bool:
        """Whether consumer `node` is the one that frees the tiles after its last read."""
        return self.last in ("", node)

    def index(self, n: int, channel: int, channels: int, lanes: int) -> int:
        """For a [N, C, H x W] layout in tiles of `lanes` channels: the tile of image n from `channel`."""
        return n * -(-channels // lanes) + channel // lanes


@dataclass
class Segment:
    """The state of lowering one segment; `program_text()` is its assembly."""

    config: CoreConfig
    graph: Graph
    index: int
    builder: Builder = field(init=False)
    dram: dict[str, str] = field(default_factory=dict)  # graph value -> DRAM tensor
    feeds: dict[str, str] = field(default_factory=dict)  # DRAM tensor -> graph value it is loaded from
    consts: dict[str, np.ndarray] = field(default_factory=dict)  # DRAM tensor -> prepared constant (float32)
    results: dict[str, list[str]] = field(default_factory=dict)  # DRAM tensor -> graph values it holds at the end
    aliases: dict[str, str] = field(default_factory=dict)  # graph value -> the input value it reshapes
    nodes: list[str] = field(default_factory=list)
    identity_at: int | None = None  # SBUF offset of the identity for PE transposes, once loaded (pe.py)
    keep: dict[str, Planes | Rows | Flat] = field(default_factory=dict)  # values kept in SBUF (accel.compiler.resident)
    resident: dict[str, list[int]] = field(default_factory=dict)  # kept value -> SBUF offset of each plane/block
    _n: int = 0

    def __post_init__(self) -> None:
        self.builder = Builder(self.config)

    def _name(self) -> str:
        self._n += 1
        return f"t{self._n}"

    def value_in(self, value: str) -> str:
        """The DRAM tensor holding graph value `value` (declared as an input when first met here)."""
        if value not in self.dram:
            t = self._name()
            v = self.graph.values[value]
            self.builder.tensor(t, ACT_DTYPE, (v.size,), "in")
            self.dram[value] = t
            self.feeds[t] = value
        return self.dram[value]

    def value_out(self, value: str) -> str:
        """A new DRAM tensor for graph value `value`, produced in this segment."""
        t = self._name()
        self.builder.tensor(t, ACT_DTYPE, (self.graph.values[value].size,), "out")
        self.dram[value] = t
        self.results[t] = [value]
        return t

    def alias(self, value: str, of: str) -> None:
        """`value` is the same DRAM bytes as `of` (a reshape): no instruction."""
        t = self.value_in(of)
        self.dram[value] = t
        if t in self.results:
            self.results[t].append(value)
        else:  # a reshape of an input: the runtime reshapes the input array itself
            self.aliases[value] = self.feeds[t]

    def hold(self, value: str, sizes: list[int], what: str) -> list[int] | None:
        """SBUF ranges (bytes per partition each) for kept value `value`, or None when they would take
        more than half of what is free now: then the value is no longer kept (accel.compiler.resident)
        and its producer stores it to DRAM. A guard, not a proof: kept values alive across several
        layers can still crowd the tiles of a layer lowered later (a CompileError naming it)."""
        a = self.builder.sbuf
        if sum(a.aligned(n) for n in sizes) > a.room() // 2:
            del self.keep[value]
            return None
        self.resident[value] = [a.alloc(n, what) for n in sizes]
        return self.resident[value]

    def const(self, data: np.ndarray, dtype: str) -> str:
        """A DRAM tensor with prepared constant data (weights, biases, zeros), as an input."""
        t = self._name()
        data = np.ascontiguousarray(data, dtype=np.int8 if dtype == "int8" else np.float32).reshape(-1)
        self.builder.tensor(t, dtype, (data.size,), "in")
        self.consts[t] = data
        return t

    def program_text(self) -> str:
        return self.builder.text(f"segment {self.index} of {self.graph.name}: {', '.join(self.nodes)}")

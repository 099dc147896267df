"""The DMA engine's cost: descriptors of contiguous DRAM bytes, moved over the DRAM port.

A transfer is cut into descriptors, one per contiguous run of DRAM elements within one partition
(docs/timing.md, "DMA"); the port moves one beat of `dma_bytes_per_cycle` bytes per cycle and a
descriptor takes ceil(run bytes / beat bytes) beats, so a strided gather of small elements costs a
beat per element while one contiguous block streams at the full bandwidth.
"""

from __future__ import annotations

from functools import lru_cache

from accel.config import CoreConfig
from accel.isa.encoding import Instruction, Program
from accel.isa.operands import dtype_bytes


@lru_cache(maxsize=4096)
def descriptors(dims: tuple[tuple[int, int], ...]) -> tuple[int, int]:
    """(descriptors per partition, elements per descriptor) of a DRAM pattern's free dims: inner
    dims merge into one run while each stride equals the run so far."""
    run, merged = 1, len(dims)
    for k in range(len(dims) - 1, -1, -1):
        n, s = dims[k]
        if n == 1:
            merged = k
            continue
        if s != run:
            break
        run *= n
        merged = k
    count = 1
    for n, _ in dims[:merged]:
        count *= n
    return count, run


def transfer(ins: Instruction, program: Program, config: CoreConfig) -> tuple[int, int]:
    """(data-phase cycles on the DRAM port, bytes) of a dma.load or dma.store."""
    ops = ins.ops
    load = ins.spec["mnemonic"] == "dma.load"
    ap, d = (ops["dst"], ops["src"]) if load else (ops["src"], ops["dst"])
    size = dtype_bytes(ap.dtype)
    count, run = descriptors(d.dims)
    beats = ap.pcount * count * -(-run * size // config.dma_bytes_per_cycle)
    return beats, ap.pcount * count * run * size  # count * run: every element of the free dims

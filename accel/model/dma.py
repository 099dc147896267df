"""The DMA engine: strided copies between DRAM tensors and SBUF partitions, bits unchanged."""

from __future__ import annotations

from accel.model import semantics


@semantics("dma.load")
def dma_load(core, ins) -> None:
    dst, src = ins.ops["dst"], ins.ops["src"]
    values = core.dram_read(src, dst)
    core.write(dst, values)
    core.stats.bytes_dram_to_sbuf += values.nbytes
    core.stats.count_elements("DMA", values.size)


@semantics("dma.store")
def dma_store(core, ins) -> None:
    dst, src = ins.ops["dst"], ins.ops["src"]
    values = core.read(src)
    core.dram_write(dst, src, values)
    core.stats.bytes_sbuf_to_dram += values.nbytes
    core.stats.count_elements("DMA", values.size)

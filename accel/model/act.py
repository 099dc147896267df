"""The activation engine: func(x * scale + bias) per lane.

This issue's functions are the exact ones, identity and relu; table-driven functions come
with the function-approximation unit (accel.model.lut). The affine step and relu are
primitives (`act_affine`, `relu`) called through `core.prims`, so accel.kernels.act can stand in.
"""

from __future__ import annotations

import numpy as np

from accel.isa.operands import AP
from accel.model import fp, primitive, semantics
from accel.model.vec import to_f32


@primitive("act_affine")
def affine_f32(x: np.ndarray, x_dtype: str, scale: int, bias: int | np.ndarray) -> np.ndarray:
    """binary32 bits of (x * scale) + bias for stored elements x [P, F]: two round-to-nearest-even
    steps. `scale` is binary32 bits; `bias` binary32 bits, or an array [P, 1] of them (per partition)."""
    v = to_f32(x, x_dtype)
    y = fp.mul(v, np.full_like(v, scale))
    return fp.add(y, np.broadcast_to(np.asarray(bias, dtype=np.uint32), y.shape))


@primitive("relu")
def relu(bits: np.ndarray) -> np.ndarray:
    """maximum(x, +0) on binary32 bits (accel.model.fp.relu)."""
    return fp.relu(bits)


def affine(core, ins) -> np.ndarray:
    """binary32 bits of (x * scale) + bias: two round-to-nearest-even steps."""
    dst, src = ins.ops["dst"], ins.ops["src"]
    if (dst.pcount, dst.free_size) != (src.pcount, src.free_size):
        raise core.error(f"dst [{dst.pcount} x {dst.free_size}] and src [{src.pcount} x {src.free_size}] differ")
    core.check_stream_order(dst, {"src": src}, engine="ACT")  # rtl/act_engine.v streams src into dst
    bias = ins.ops["bias"]
    if isinstance(bias, AP):
        if bias.pcount != src.pcount:
            raise core.error(f"bias has {bias.pcount} partitions, src {src.pcount}")
        bias = core.read(bias).astype(np.uint32)  # one fp32 per partition, [P, 1]
    y = core.prims.act_affine(core.read(src), src.dtype, ins.ops["scale"], bias)
    core.stats.count_elements("ACT", dst.size)
    return y


@semantics("act.identity")
def act_identity(core, ins) -> None:
    dst = ins.ops["dst"]
    core.write(dst, core.prims.from_f32(affine(core, ins), dst.dtype))


@semantics("act.relu")
def act_relu(core, ins) -> None:
    dst = ins.ops["dst"]
    core.write(dst, core.prims.from_f32(core.prims.relu(affine(core, ins)), dst.dtype))

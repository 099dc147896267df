"""The activation engine: func(x * scale + bias) per lane.

This issue's functions are the exact ones, identity and relu; table-driven functions come
with the function-approximation unit (accel.model.lut).
"""

from __future__ import annotations

import numpy as np

from accel.isa.operands import AP
from accel.model import fp, semantics
from accel.model.vec import from_f32, to_f32


def affine(core, ins) -> np.ndarray:
    """binary32 bits of (x * scale) + bias: two round-to-nearest-even steps."""
    dst, src = ins.ops["dst"], ins.ops["src"]
    if (dst.pcount, dst.free_size) != (src.pcount, src.free_size):
        raise core.error(f"dst [{dst.pcount} x {dst.free_size}] and src [{src.pcount} x {src.free_size}] differ")
    x = to_f32(core.read(src), src.dtype)
    y = fp.mul(x, np.full_like(x, ins.ops["scale"]))
    bias = ins.ops["bias"]
    if isinstance(bias, AP):
        if bias.pcount != src.pcount:
            raise core.error(f"bias has {bias.pcount} partitions, src {src.pcount}")
        b = core.read(bias).astype(np.uint32)  # one fp32 per partition, [P, 1]
    else:
        b = np.uint32(bias)
    y = fp.add(y, np.broadcast_to(b, y.shape))
    core.stats.count_elements("ACT", dst.size)
    return y


@semantics("act.identity")
def act_identity(core, ins) -> None:
    dst = ins.ops["dst"]
    core.write(dst, from_f32(affine(core, ins), dst.dtype))


@semantics("act.relu")
def act_relu(core, ins) -> None:
    dst = ins.ops["dst"]
    core.write(dst, from_f32(fp.relu(affine(core, ins)), dst.dtype))

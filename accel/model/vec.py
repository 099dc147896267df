"""The SIMD vector engine: elementwise, tensor-scalar, reduce, copy and cast, in binary32.

Every operation converts its inputs to binary32 bit patterns (`to_f32`), computes with the
bit-exact reference arithmetic of accel.model.fp, and converts to the destination's element
type (`from_f32`). Storage types: fp32 -> uint32 bits, bf16 -> uint16 bits, int8, int32.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from accel.model import fp, semantics


def to_f32(values: np.ndarray, dtype: str) -> np.ndarray:
    """Stored elements of `dtype` -> binary32 bit patterns (uint32). A NaN becomes the canonical NaN,
    as from bf16, so no operation passes a payload on (a cast to fp32, a one-element reduce_max)."""
    if dtype == "fp32":
        bits = values.astype(np.uint32)
        return np.where((bits & 0x7FFFFFFF) > 0x7F800000, np.uint32(fp.CANONICAL_NAN), bits)
    if dtype == "bf16":
        return fp.bf16_to_fp32(values.astype(np.uint16))
    if dtype in ("int8", "int32"):
        return fp.int32_to_fp32(values.astype(np.int32))
    raise ValueError(f"no binary32 conversion from {dtype}")


def from_f32(bits: np.ndarray, dtype: str) -> np.ndarray:
    """binary32 bit patterns -> stored elements of `dtype` (RNE; integers saturate, NaN -> 0)."""
    if dtype == "fp32":
        return bits.astype(np.uint32)
    if dtype == "bf16":
        return fp.fp32_to_bf16(bits)
    if dtype == "int32":
        return fp.fp32_to_int32(bits)
    if dtype == "int8":
        return fp.fp32_to_int8(bits)
    raise ValueError(f"no binary32 conversion to {dtype}")


def _same_shape(core, ins, *names: str) -> None:
    aps = [ins.ops[n] for n in names]
    shapes = {(ap.pcount, ap.free_size) for ap in aps}
    if len(shapes) > 1:
        desc = ", ".join(f"{n} [{ap.pcount} partitions x {ap.free_size}]" for n, ap in zip(names, aps, strict=True))
        raise core.error(f"operands differ in shape: {desc}")


def _binary(op: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    def run(core, ins) -> None:
        _same_shape(core, ins, "dst", "a", "b")
        dst, a, b = ins.ops["dst"], ins.ops["a"], ins.ops["b"]
        core.check_stream_order(dst, {"a": a, "b": b})
        x = to_f32(core.read(a), a.dtype)
        y = to_f32(core.read(b), b.dtype)
        core.write(dst, from_f32(op(x, y), dst.dtype))
        core.stats.count_elements("VEC", dst.size)

    return run


def _scalar(op: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    def run(core, ins) -> None:
        _same_shape(core, ins, "dst", "a")
        dst, a = ins.ops["dst"], ins.ops["a"]
        core.check_stream_order(dst, {"a": a})
        x = to_f32(core.read(a), a.dtype)
        s = np.uint32(ins.ops["scalar"])
        core.write(dst, from_f32(op(x, np.full_like(x, s)), dst.dtype))
        core.stats.count_elements("VEC", dst.size)

    return run


for _name, _op in {"add": fp.add, "sub": fp.sub, "mul": fp.mul, "max": fp.maximum, "min": fp.minimum}.items():
    semantics(f"vec.{_name}")(_binary(_op))
    semantics(f"vec.{_name}s")(_scalar(_op))


def _reduce(core, ins, combine: Callable[[np.ndarray, np.ndarray], np.ndarray], start_zero: bool) -> None:
    dst, src = ins.ops["dst"], ins.ops["src"]
    last = src.dims[-1][0]
    if dst.pcount != src.pcount or dst.free_size * last != src.free_size:
        raise core.error(
            f"dst holds [{dst.pcount} x {dst.free_size}] but reducing src [{src.pcount} x {src.free_size}] "
            f"over its last dim ({last}) gives [{src.pcount} x {src.free_size // last}]"
        )
    x = to_f32(core.read(src), src.dtype).reshape(src.pcount, -1, last)
    acc = np.zeros(x.shape[:2], dtype=np.uint32) if start_zero else x[:, :, 0]
    for j in range(0 if start_zero else 1, last):  # strictly in index order
        acc = combine(acc, x[:, :, j])
    core.write(dst, from_f32(acc.reshape(dst.pcount, -1), dst.dtype))
    core.stats.count_elements("VEC", src.size)


@semantics("vec.reduce_sum")
def vec_reduce_sum(core, ins) -> None:
    _reduce(core, ins, fp.add, start_zero=True)


@semantics("vec.reduce_max")
def vec_reduce_max(core, ins) -> None:
    _reduce(core, ins, fp.maximum, start_zero=False)


@semantics("vec.copy")
def vec_copy(core, ins) -> None:
    _same_shape(core, ins, "dst", "src")
    dst, src = ins.ops["dst"], ins.ops["src"]
    if dst.dtype != src.dtype:
        raise core.error(f"vec.copy copies bits between equal types, got {src.dtype} -> {dst.dtype}; use vec.cast")
    core.check_stream_order(dst, {"src": src})
    core.write(dst, core.read(src))
    core.stats.count_elements("VEC", dst.size)


@semantics("vec.cast")
def vec_cast(core, ins) -> None:
    _same_shape(core, ins, "dst", "src")
    dst, src = ins.ops["dst"], ins.ops["src"]
    core.check_stream_order(dst, {"src": src})
    core.write(dst, from_f32(to_f32(core.read(src), src.dtype), dst.dtype))
    core.stats.count_elements("VEC", dst.size)

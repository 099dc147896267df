"""The SIMD vector engine: elementwise, tensor-scalar, reduce, copy and cast, in binary32.

Every operation converts its inputs to binary32 bit patterns (`to_f32`), computes with the
bit-exact reference arithmetic of accel.model.fp, and converts to the destination's element
type (`from_f32`). Storage types: fp32 -> uint32 bits, bf16 -> uint16 bits, int8, int32.

The bulk arithmetic of every opcode is a primitive (`binary`, `scalar`, `reduce`, `convert`,
`to_f32`, `from_f32`) that the semantic functions call through `core.prims`, so that accel.kernels.vec can
stand in for it, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from accel.model import fp, primitive, semantics


@primitive("to_f32")
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


@primitive("from_f32")
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


BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": fp.add, "sub": fp.sub, "mul": fp.mul, "max": fp.maximum, "min": fp.minimum}
COMBINE = {"sum": (fp.add, True), "max": (fp.maximum, False)}  # combining function, starts from +0


@primitive("vec_convert")
def convert(values: np.ndarray, src_dtype: str, dst_dtype: str) -> np.ndarray:
    """Stored dst elements of stored src elements, through binary32 (vec.cast)."""
    return from_f32(to_f32(values, src_dtype), dst_dtype)


@primitive("vec_binary")
def binary(op: str, a: np.ndarray, a_dtype: str, b: np.ndarray, b_dtype: str, dst_dtype: str) -> np.ndarray:
    """Stored dst elements of `op` (a BINARY name) on equal-shaped stored elements a and b."""
    return from_f32(BINARY[op](to_f32(a, a_dtype), to_f32(b, b_dtype)), dst_dtype)


@primitive("vec_scalar")
def scalar(op: str, a: np.ndarray, a_dtype: str, s: int, dst_dtype: str) -> np.ndarray:
    """Stored dst elements of `op` on stored elements a and the binary32 scalar whose bits are s."""
    x = to_f32(a, a_dtype)
    return from_f32(BINARY[op](x, np.full_like(x, np.uint32(s))), dst_dtype)


@primitive("vec_reduce")
def reduce(op: str, x: np.ndarray, x_dtype: str, last: int, dst_dtype: str) -> np.ndarray:
    """Stored [P, G] dst elements of `op` ("sum" or "max") over each run of `last` elements of x [P, G * last]."""
    combine, start_zero = COMBINE[op]
    v = to_f32(x, x_dtype).reshape(x.shape[0], -1, last)
    acc = np.zeros(v.shape[:2], dtype=np.uint32) if start_zero else v[:, :, 0]
    for j in range(0 if start_zero else 1, last):  # strictly in index order
        acc = combine(acc, v[:, :, j])
    return from_f32(acc, dst_dtype)


def _same_shape(core, ins, *names: str) -> None:
    aps = [ins.ops[n] for n in names]
    shapes = {(ap.pcount, ap.free_size) for ap in aps}
    if len(shapes) > 1:
        desc = ", ".join(f"{n} [{ap.pcount} partitions x {ap.free_size}]" for n, ap in zip(names, aps, strict=True))
        raise core.error(f"operands differ in shape: {desc}")


def _binary(op: str):
    def run(core, ins) -> None:
        _same_shape(core, ins, "dst", "a", "b")
        dst, a, b = ins.ops["dst"], ins.ops["a"], ins.ops["b"]
        core.check_stream_order(dst, {"a": a, "b": b})
        core.write(dst, core.prims.vec_binary(op, core.read(a), a.dtype, core.read(b), b.dtype, dst.dtype))
        core.stats.count_elements("VEC", dst.size)

    return run


def _scalar(op: str):
    def run(core, ins) -> None:
        _same_shape(core, ins, "dst", "a")
        dst, a = ins.ops["dst"], ins.ops["a"]
        core.check_stream_order(dst, {"a": a})
        core.write(dst, core.prims.vec_scalar(op, core.read(a), a.dtype, ins.ops["scalar"], dst.dtype))
        core.stats.count_elements("VEC", dst.size)

    return run


for _name in BINARY:
    semantics(f"vec.{_name}")(_binary(_name))
    semantics(f"vec.{_name}s")(_scalar(_name))


def _reduce(core, ins, op: str) -> None:
    dst, src = ins.ops["dst"], ins.ops["src"]
    last = src.dims[-1][0]
    if dst.pcount != src.pcount or dst.free_size * last != src.free_size:
        raise core.error(
            f"dst holds [{dst.pcount} x {dst.free_size}] but reducing src [{src.pcount} x {src.free_size}] "
            f"over its last dim ({last}) gives [{src.pcount} x {src.free_size // last}]"
        )
    core.write(dst, core.prims.vec_reduce(op, core.read(src), src.dtype, last, dst.dtype))
    core.stats.count_elements("VEC", src.size)


@semantics("vec.reduce_sum")
def vec_reduce_sum(core, ins) -> None:
    _reduce(core, ins, "sum")


@semantics("vec.reduce_max")
def vec_reduce_max(core, ins) -> None:
    _reduce(core, ins, "max")


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
    core.write(dst, core.prims.vec_convert(core.read(src), src.dtype, dst.dtype))
    core.stats.count_elements("VEC", dst.size)

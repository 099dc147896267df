"""accel.kernels.vec agrees with accel.model.vec bit for bit: every primitive, every operation and
every combination of element types, on random bits rich in NaNs with payloads, infinities,
subnormals and signed zeros; exhaustively where the input space has at most 2^16 points."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

from accel.kernels import vec as k
from accel.model import fp
from accel.model import vec as m

DTYPES = ("fp32", "bf16", "int32", "int8")
STORAGE = {"fp32": np.uint32, "bf16": np.uint16, "int32": np.int32, "int8": np.int8}
SPECIAL_F32 = np.array([
    0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7FC12345, 0xFFA00001, 0x7F800001,
    1, 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x00800000, 0x80800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000,
    0xBF800000, 0x3F000000, 0x4EFFFFFF, 0x4F000000, 0xCF000000, 0xCF000001, 0x42FF0000, 0x42FE0000,
    0xC3000000, 0xC3010000, 0x3FC00000, 0x40200000, 0xBFC00000, 0x3F7FFFFF, 0x33800000, 0x00000100,
], dtype=np.uint32)


def seed_of(case: tuple) -> int:
    """A seed fixed by the test case (str hashes change from run to run)."""
    return zlib.crc32(repr(case).encode())


def random_f32(rng: np.random.Generator, n: int) -> np.ndarray:
    """binary32 bits: uniform patterns, small-exponent (subnormal-ish), near-one values and specials."""
    bits = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    sel = rng.integers(0, 5, n)
    bits[sel == 1] &= 0x80FFFFFF  # exponent 0 or 1: subnormals and the smallest normals
    near = fp.f32_bits(rng.standard_normal(n).astype(np.float32))
    bits[sel == 2] = near[sel == 2]
    bits[sel == 3] = rng.choice(SPECIAL_F32, int((sel == 3).sum()))
    bits[: SPECIAL_F32.size] = SPECIAL_F32[:n]
    return bits


def random_stored(rng: np.random.Generator, dtype: str, shape: tuple[int, int]) -> np.ndarray:
    """Stored elements of `dtype` (as core.read returns them) covering its special values."""
    n = shape[0] * shape[1]
    if dtype == "fp32":
        v = random_f32(rng, n)
    elif dtype == "bf16":
        v = (random_f32(rng, n) >> 16).astype(np.uint16)
    elif dtype == "int32":
        v = rng.integers(-2**31, 2**31, n, dtype=np.int64).astype(np.int32)
        v[:8] = [0, 1, -1, 2**31 - 1, -2**31, 2**24 + 1, -(2**24 + 3), 16777217]
    else:
        v = rng.integers(-128, 128, n, dtype=np.int64).astype(np.int8)
    return v.reshape(shape).astype(STORAGE[dtype])


def same(got: np.ndarray, want: np.ndarray) -> None:
    """Equal storage type, shape and every element's bits."""
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)
    bad = np.flatnonzero(np.atleast_1d(got).reshape(-1) != np.atleast_1d(want).reshape(-1))
    assert not bad.size, (f"{bad.size} elements differ; first at {bad[0]}: {got.reshape(-1)[bad[0]]!r} "
                          f"!= {want.reshape(-1)[bad[0]]!r}")


def all_bf16() -> np.ndarray:
    return np.arange(2**16, dtype=np.uint32).astype(np.uint16)


# ------------------------------------------------------------------------------------------ conversions


@pytest.mark.parametrize("dtype", DTYPES)
def test_to_f32(dtype: str) -> None:
    values = random_stored(np.random.default_rng(1), dtype, (16, 512))
    same(k.to_f32(values, dtype), m.to_f32(values, dtype))


@pytest.mark.parametrize("dtype", ["bf16", "int8"])
def test_to_f32_exhaustive(dtype: str) -> None:
    values = all_bf16() if dtype == "bf16" else np.arange(-128, 128, dtype=np.int8)
    same(k.to_f32(values.reshape(1, -1), dtype), m.to_f32(values.reshape(1, -1), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_from_f32(dtype: str) -> None:
    rng = np.random.default_rng(2)
    bits = random_f32(rng, 20000)
    # bf16 ties and near-ties, integer halves and the saturation edges
    low = np.array([0x8000, 0x7FFF, 0x8001, 0x18000, 0x0], dtype=np.uint32)
    bits[-5 * 64:] = (rng.integers(0, 2**16, 64, dtype=np.uint32)[:, None] << 16 | low).reshape(-1)
    halves = fp.f32_bits(np.arange(-300, 300, dtype=np.float32) + np.float32(0.5))
    bits = np.concatenate([bits, halves]).reshape(4, -1)
    same(k.from_f32(bits, dtype), m.from_f32(bits, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_from_f32_exhaustive_upper_halves(dtype: str) -> None:
    """Every binary32 whose low 16 bits are a tie, zero or the largest: 3 x 2^16 patterns."""
    upper = all_bf16().astype(np.uint32) << 16
    bits = np.concatenate([upper, upper | 0x8000, upper | 0xFFFF]).reshape(3, -1)
    same(k.from_f32(bits, dtype), m.from_f32(bits, dtype))


@pytest.mark.parametrize("src, dst", list(itertools.product(DTYPES, repeat=2)))
def test_convert(src: str, dst: str) -> None:
    values = random_stored(np.random.default_rng(seed_of((src, dst))), src, (8, 700))
    same(k.convert(values, src, dst), m.convert(values, src, dst))


@pytest.mark.parametrize("dst", DTYPES)
def test_convert_exhaustive_bf16(dst: str) -> None:
    values = all_bf16().reshape(1, -1)
    same(k.convert(values, "bf16", dst), m.convert(values, "bf16", dst))


def test_relu() -> None:
    bits = np.concatenate([random_f32(np.random.default_rng(3), 10000), all_bf16().astype(np.uint32) << 16])
    same(k.relu(bits.reshape(2, -1)), fp.relu(bits.reshape(2, -1)))


# ------------------------------------------------------------------------------------------ operations


@pytest.mark.parametrize("op", sorted(m.BINARY))
@pytest.mark.parametrize("a_dtype, b_dtype, dst_dtype", list(itertools.product(DTYPES, repeat=3)))
def test_binary(op: str, a_dtype: str, b_dtype: str, dst_dtype: str) -> None:
    rng = np.random.default_rng(seed_of((op, a_dtype, b_dtype, dst_dtype)))
    a, b = random_stored(rng, a_dtype, (8, 300)), random_stored(rng, b_dtype, (8, 300))
    same(k.binary(op, a, a_dtype, b, b_dtype, dst_dtype), m.binary(op, a, a_dtype, b, b_dtype, dst_dtype))


def test_binary_specials_against_each_other() -> None:
    """Every pair of special binary32 values, every operation, into fp32 and bf16."""
    a, b = (x.reshape(1, -1) for x in np.meshgrid(SPECIAL_F32, SPECIAL_F32))
    for op, dst in itertools.product(m.BINARY, ("fp32", "bf16")):
        same(k.binary(op, a, "fp32", b, "fp32", dst), m.binary(op, a, "fp32", b, "fp32", dst))


@pytest.mark.parametrize("op", sorted(m.BINARY))
@pytest.mark.parametrize("dtype", ["int8", "bf16"])
def test_binary_exhaustive(op: str, dtype: str) -> None:
    """int8 x int8 (2^16 pairs) into every type; bf16: every bf16 against special and random ones."""
    if dtype == "int8":
        a, b = (x.reshape(1, -1).astype(np.int8) for x in np.meshgrid(np.arange(-128, 128), np.arange(-128, 128)))
        for dst in DTYPES:
            same(k.binary(op, a, "int8", b, "int8", dst), m.binary(op, a, "int8", b, "int8", dst))
        return
    a = all_bf16().reshape(1, -1)
    others = np.concatenate([SPECIAL_F32 >> 16, np.random.default_rng(4).integers(0, 2**16, 6)]).astype(np.uint16)
    for other in others:
        b = np.full_like(a, other)
        for dst in ("fp32", "bf16"):
            same(k.binary(op, a, "bf16", b, "bf16", dst), m.binary(op, a, "bf16", b, "bf16", dst))


@pytest.mark.parametrize("op", sorted(m.BINARY))
@pytest.mark.parametrize("a_dtype, dst_dtype", list(itertools.product(DTYPES, repeat=2)))
def test_scalar(op: str, a_dtype: str, dst_dtype: str) -> None:
    rng = np.random.default_rng(seed_of((op, a_dtype, dst_dtype, "s")))
    a = random_stored(rng, a_dtype, (4, 400))
    for s in [*SPECIAL_F32[:12], *random_f32(rng, 4)]:
        same(k.scalar(op, a, a_dtype, int(s), dst_dtype), m.scalar(op, a, a_dtype, int(s), dst_dtype))


@pytest.mark.parametrize("op", sorted(m.BINARY))
def test_scalar_exhaustive_bf16(op: str) -> None:
    a = all_bf16().reshape(1, -1)
    for s in SPECIAL_F32:
        same(k.scalar(op, a, "bf16", int(s), "fp32"), m.scalar(op, a, "bf16", int(s), "fp32"))


@pytest.mark.parametrize("op", sorted(m.COMBINE))
@pytest.mark.parametrize("x_dtype, dst_dtype", list(itertools.product(DTYPES, repeat=2)))
@pytest.mark.parametrize("last", [1, 2, 7, 64])
def test_reduce(op: str, x_dtype: str, dst_dtype: str, last: int) -> None:
    rng = np.random.default_rng(seed_of((op, x_dtype, dst_dtype, last)))
    x = random_stored(rng, x_dtype, (6, 3 * last))
    same(k.reduce(op, x, x_dtype, last, dst_dtype), m.reduce(op, x, x_dtype, last, dst_dtype))


def test_reduce_sum_keeps_the_index_order() -> None:
    """Sums whose value depends on the order: 1e8 + 1 + ... - 1e8 and signed zeros."""
    rows = np.array([[1e8, 1, 1, 1, -1e8, 0.5, 3, 7], [-0.0] * 8, [1, 1e8, -1e8, 1, 2**-149, 0, -0.0, 1e-45],
                     [np.inf, 1, -np.inf, 2, 3, 4, 5, 6]], dtype=np.float32)
    bits = fp.f32_bits(rows)
    for op in m.COMBINE:
        same(k.reduce(op, bits, "fp32", 8, "fp32"), m.reduce(op, bits, "fp32", 8, "fp32"))
    assert fp.f32_value(k.reduce("sum", bits, "fp32", 8, "fp32"))[0, 0] == np.float32(10.5)


def test_kernels_follow_the_model_not_numpy() -> None:
    """The cases where plain numpy float32 would differ from the model: NaN payloads, max/min of
    signed zeros, relu(-0)."""
    a = np.array([[0x7FC12345, 0x80000000, 0x00000000, 0xFFA00001]], dtype=np.uint32)
    b = np.array([[0x3F800000, 0x00000000, 0x80000000, 0x3F800000]], dtype=np.uint32)
    assert k.binary("add", a, "fp32", b, "fp32", "fp32")[0, 0] == 0x7FC00000
    assert list(k.binary("max", a, "fp32", b, "fp32", "fp32")[0, 1:3]) == [0, 0]
    assert list(k.binary("min", a, "fp32", b, "fp32", "fp32")[0, 1:3]) == [0x80000000, 0x80000000]
    assert k.relu(np.array([0x80000000], dtype=np.uint32))[0] == 0

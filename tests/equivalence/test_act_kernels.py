"""accel.kernels.act agrees with accel.model.act bit for bit: the affine step x * scale + bias (two
roundings) for every source type, immediate and per-partition biases, on random bits rich in
specials, and exhaustively over every bf16 input for special and random scales and biases."""

from __future__ import annotations

import numpy as np
import pytest
from test_vec_kernels import DTYPES, SPECIAL_F32, all_bf16, random_f32, random_stored, same

from accel.kernels import act as k
from accel.model import act as m
from accel.model import fp


@pytest.mark.parametrize("dtype", DTYPES)
def test_affine_immediate_bias(dtype: str) -> None:
    rng = np.random.default_rng(DTYPES.index(dtype))
    x = random_stored(rng, dtype, (8, 500))
    for scale, bias in zip(random_f32(rng, 24), random_f32(rng, 24)[::-1], strict=True):
        same(k.affine_f32(x, dtype, int(scale), int(bias)), m.affine_f32(x, dtype, int(scale), int(bias)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_affine_per_partition_bias(dtype: str) -> None:
    rng = np.random.default_rng(10 + DTYPES.index(dtype))
    x = random_stored(rng, dtype, (SPECIAL_F32.size, 300))
    bias = SPECIAL_F32.reshape(-1, 1)
    for scale in random_f32(rng, 12):
        same(k.affine_f32(x, dtype, int(scale), bias), m.affine_f32(x, dtype, int(scale), bias))


def test_affine_exhaustive_bf16() -> None:
    x = all_bf16().reshape(1, -1)
    for scale, bias in [(0x3F800000, 0), (0x3F800000, 0x80000000), (0x3E800000, 0x3F800000),
                        (0x7F800000, 0), (0, 0x7F800000), (0x00000001, 0x80000001), (0x3DCCCCCD, 0xBF8CCCCD),
                        (0x4B800001, 0x3F000000)]:
        same(k.affine_f32(x, "bf16", scale, bias), m.affine_f32(x, "bf16", scale, bias))


def test_affine_rounds_twice() -> None:
    """x * scale is rounded before the bias is added: an FMA would give another result here."""
    x, scale, bias = 1 + 2.0**-12, 1 + 2.0**-12, -1.0  # the product 1 + 2^-11 + 2^-24 rounds to 1 + 2^-11
    got = k.affine_f32(fp.f32_bits(np.float32([[x]])), "fp32", int(fp.f32_bits(np.float32(scale))),
                       int(fp.f32_bits(np.float32(bias))))
    assert fp.f32_value(got)[0, 0] == np.float32(2.0**-11)
    assert fp.f32_value(fp.fma(fp.f32_bits(np.float32(x)), fp.f32_bits(np.float32(scale)),
                               fp.f32_bits(np.float32(bias)))) != np.float32(2.0**-11)

"""The speed layer: Numba and BLAS versions of accel.model, module for module and name for name,
bit-exact with it (tests/equivalence)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def primitives() -> dict[str, Callable[..., Any]]:
    """The kernels' versions of accel.model's primitives, under the model's names (accel.model.PRIMITIVES)."""
    from accel.kernels import act, lut, pe_array, rng, sparse, vec

    return {
        "matmul_int8": pe_array.matmul_int8,
        "matmul_bf16": pe_array.matmul_bf16,
        "accumulate": pe_array.accumulate,
        "matmul_sparse": sparse.matmul_sparse,
        "philox_words": rng.philox_words,
        "xoroshiro_outputs": rng.xoroshiro_outputs,
        "dropout_f32": rng.dropout_f32,
        "lut_apply": lut.apply,
        "to_f32": vec.to_f32,
        "vec_convert": vec.convert,
        "from_f32": vec.from_f32,
        "vec_binary": vec.binary,
        "vec_scalar": vec.scalar,
        "vec_reduce": vec.reduce,
        "relu": vec.relu,
        "act_affine": act.affine_f32,
    }

"""The fast backend's fused forms (accel.machine._fused_semantics: VEC binary, tensor-scalar, cast and
copy, dropout with Philox words, act.identity and act.relu as one Numba call on memory runs) give the model's semantic
functions' memory, statistics and error messages on random operands: overlapping in place, shifted
by elements or partitions, strided, reversed, repeated, of other shapes and outside their memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import accel.machine as machine
from accel import CoreConfig
from accel.isa.asm import assemble
from accel.kernels import act as kact
from accel.kernels import rng as krng
from accel.kernels import vec as kvec
from accel.machine import Core, MachineError
from accel.model import all_semantics

CONFIG = CoreConfig(sbuf_partitions=8, sbuf_partition_bytes=4096, pe_rows=8, pe_cols=8, psum_partitions=8)
BINARY = ("add", "sub", "mul", "max", "min")
# Element types per form: few combinations, so few Numba specializations to compile.
TYPES = {"binary": [("fp32", "fp32", "fp32")] * 6 + [("bf16", "fp32", "bf16"), ("int8", "fp32", "fp32")],
         "scalar": [("fp32", "fp32")] * 4 + [("bf16", "fp32"), ("fp32", "int32")],
         "cast": [("bf16", "fp32"), ("int8", "fp32"), ("fp32", "bf16"), ("int32", "fp32")],
         "copy": [("fp32", "fp32"), ("bf16", "bf16"), ("fp32", "int32")],
         "act": [("fp32", "fp32")] * 3 + [("bf16", "fp32"), ("fp32", "bf16")],
         "dropout": [("fp32", "fp32")] * 3 + [("bf16", "fp32")]}
SIZES = {"fp32": 4, "int32": 4, "bf16": 2, "int8": 1}


def pattern(rng: np.random.Generator, dtype: str, p0: int, pcount: int, free: int, near: int) -> str:
    """An access pattern of `free` elements per partition near byte `near`: mostly one run, sometimes
    strided, reversed, repeated or split in two dims; now and then outside SBUF or another shape."""
    size = SIZES[dtype]
    offset = max(0, near + size * int(rng.integers(-3, 4))) // size * size
    form = rng.choice(["run"] * 8 + ["two", "stride", "reverse", "repeat", "long", "outside"])
    dims = f"[{free}]"
    if form == "two" and free % 2 == 0:
        dims = f"[2, {free // 2}]"
    elif form == "stride":
        dims = f"[{free}@2]"
    elif form == "reverse":
        offset += (free - 1) * size
        dims = f"[{free}@-1]"
    elif form == "repeat":
        dims = f"[{free}@0]"
    elif form == "long":
        dims = f"[{free + 1}]"
    elif form == "outside":
        offset = CONFIG.sbuf_partition_bytes - size * int(rng.integers(1, free + 1))
    space = "psum" if rng.random() < 0.1 else "sb"
    return f"{space}[{p0}:{p0 + pcount}, {offset}]:{dtype}{dims}"


def instruction(rng: np.random.Generator) -> str:
    form = rng.choice(list(TYPES))
    types = TYPES[form][rng.integers(len(TYPES[form]))]
    pcount, free = int(rng.integers(1, 5)), int(rng.integers(1, 9))
    base = 64 * int(rng.integers(0, 3))

    def operand(dtype: str) -> str:
        p0 = int(rng.integers(0, 10 - pcount)) if rng.random() < 0.4 else 0  # now and then past partition 7
        return pattern(rng, dtype, p0, pcount, free, base + 16 * int(rng.integers(0, 6)))

    ops = [operand(t) for t in types]
    if form == "binary":
        return f"vec.{rng.choice(BINARY)} {', '.join(ops)}"
    if form == "scalar":
        value = rng.choice(["1.5", "-0.0", "0.0", "inf", "nan", "bits(0x7fa00001)", "3e38", "1e-40"])
        return f"vec.{rng.choice(BINARY)}s {', '.join(ops)}, {value}"
    if form == "dropout":
        p = rng.choice(["0.0", "0.25", "0.5", "0.999", "1.0"])
        return f"vec.dropout {', '.join(ops)}, {p}, base={rng.integers(0, 1 << 20)}, gen={int(rng.random() < 0.2)}"
    if form == "act":
        scale = rng.choice(["1.0", "-1.5", "0.0", "nan", "3e38"])
        b0 = int(rng.integers(0, 10 - pcount)) if rng.random() < 0.2 else 0
        bias = rng.choice(["-2.0", "0.0", "inf"]) if rng.random() < 0.4 else \
            f"sb[{b0}:{b0 + pcount}, {4 * int(rng.integers(0, 40))}]:fp32[1]"
        return f"act.{rng.choice(['identity', 'relu'])} {', '.join(ops)}, scale={scale}, bias={bias}"
    return f"vec.{form} {', '.join(ops)}"


def outcome(core: Core, text: str, sbuf: np.ndarray, psum: np.ndarray) -> tuple:
    """(memories, VEC elements, error) after loading `text` unchecked over the given memories and running it."""
    core.load(assemble(text, check=False))
    core.sbuf[:], core.psum[:] = sbuf, psum
    try:
        while core.step() is not None:
            pass
        error = None
    except MachineError as e:
        error = str(e)
    return core.sbuf.tobytes(), core.psum.tobytes(), core.stats.elements["VEC"], error


@pytest.mark.parametrize("seed", range(3))
def test_fused_forms_are_the_semantic_functions(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "check_program", lambda program, limits=None: None)  # the run-time checks
    calls = []
    for module, name in ((kvec, "binary_in_memory"), (kvec, "scalar_in_memory"), (kvec, "convert_in_memory"),
                         (kact, "affine_in_memory"), (krng, "dropout_in_memory")):
        kernel = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *args, k=kernel, n=name: calls.append(n) or k(*args))
    fused, general = Core(CONFIG), Core(CONFIG)
    general.semantics = dict(all_semantics())  # the model's functions over the same kernels
    model = Core(CONFIG, backend="model")
    rng = np.random.default_rng(seed)
    outcomes = []
    for k in range(150):
        rng_state = [f"vec.rng_seed {rng.integers(0, 1 << 32)}, hi={rng.integers(0, 1 << 32)}",
                     f"vec.rng_set_offset {rng.integers(0, 1 << 32)}, hi={rng.integers(0, 1 << 4)}",
                     f"vec.rng_set_stride {rng.integers(0, 100)}"]
        prefix = [line for line in rng_state if rng.random() < 0.5]
        text = "\n".join(["nop vec", *prefix] + [instruction(rng) for _ in range(2)]) + "\n"
        sbuf = rng.integers(0, 256, fused.sbuf.shape, dtype=np.uint8)
        psum = rng.integers(0, 256, fused.psum.shape, dtype=np.uint8)
        got = outcome(fused, text, sbuf, psum)
        assert got == outcome(general, text, sbuf, psum), text
        if k % 10 == 0:
            assert got == outcome(model, text, sbuf, psum), text
        outcomes.append(got[3])
    assert len(calls) > 40 and {"affine_in_memory", "dropout_in_memory"} <= set(calls)  # the fused paths ran
    assert sum(e is None for e in outcomes) > 20 and sum(e is not None for e in outcomes) > 20  # both kinds


ARITHMETIC = ("add", "sub", "mul", "fma", "maximum", "minimum", "relu", "fp32_to_bf16", "fp32_to_int8",
              "fp32_to_int32", "bf16_to_fp32", "int32_to_fp32", "bf16_mul")


@pytest.mark.parametrize("case", ["vec.dropout", "vec.dropout_mask", "vec.dropout_apply", "act.func", "act.lut.load",
                                  "pe.matmul", "vec.reduce_sum", "vec.reduce_max", "act.relu"])
def test_fast_backend_leaves_the_bit_level_model_alone(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The directed case of each opcode whose arithmetic once reached accel.model.fp on the fast backend
    (dropout's conversions and multiply, act.func's store) gives its expected bits with every
    bit-level arithmetic function of the model switched off."""
    from accel.model import fp

    folder = Path(__file__).resolve().parents[1] / "programs" / "cases"
    with np.load(folder / f"{case}.npz") as z:
        arrays = {k: z[k] for k in z.files}
    inputs = {k[3:]: v for k, v in arrays.items() if k.startswith("in.")}
    expected = {k[4:]: v for k, v in arrays.items() if k.startswith("out.")}
    assert expected

    def slow(*args, **kwargs):
        raise AssertionError("the fast backend called the bit-level model")

    for name in ARITHMETIC:
        monkeypatch.setattr(fp, name, slow)
    outputs = Core().run((folder / f"{case}.s").read_text(), inputs).outputs
    assert sorted(outputs) == sorted(expected)
    for name, want in expected.items():
        assert outputs[name].tobytes() == want.tobytes(), name

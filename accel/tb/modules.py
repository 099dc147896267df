"""Per RTL module: the files a bench needs, and the model of what the module computes.

    from accel.tb import memory_parameters, reference, sources

    sources("act_func")            # [rtl/act_func.v, rtl/lut_mem.v, rtl/lut_index.v, rtl/fp/...]
    memory_parameters("act_func")  # {"EXP_HEX": '"/.../rtl/mem/lut_exp.hex"'}
    reference("fp32_add")(a=0x3F800000, b=0x40000000, sub=0)   # {"y": 0x40400000}

`sources` follows the RTL's own instantiations (every module defined under rtl/ or sim/ that a
module instantiates, transitively), so a bench need not glob rtl/ and picks up new submodules
when the RTL gains them; `files` also lists the `include`d headers and the generated memory
images (rtl/mem/*.hex) the module reads. `memory_parameters` gives the string parameters that
name such an image with its absolute path, because the simulator runs in a folder of its own.

A reference takes the module's input ports as keyword arguments (ints or NumPy arrays of
unsigned words) and returns a dict of its output ports, computed with accel.model (the
definition of every bit). Modules that are sequential engines take a program-level description
instead; their docstrings say which (`reference("pe_array").__doc__`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accel.model import fp, rng
from accel.tb.runner import INCLUDE_DIR, RTL_DIR, SIM_DIR

MEM_DIR = RTL_DIR / "mem"
ONE_F32, QNAN_F32 = 0x3F800000, 0x7FC00000
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_MODULE = re.compile(r"^\s*module\s+(\w+)", re.M)
_INCLUDE = re.compile(r'`include\s+"([^"]+)"')
_STRING = re.compile(r'"([^"\n]+)"')
_STRING_PARAM = re.compile(r'parameter\s+(?:\w+\s+)?(\w+)\s*=\s*"([^"\n]+)"')


@dataclass(frozen=True)
class RtlFiles:
    """What a module needs: its Verilog files (the module's own first), the headers it
    `include`s and the generated memory images (rtl/mem) it reads."""

    verilog: list[Path]
    headers: list[Path]
    memories: list[Path]


@functools.cache
def _index() -> dict[str, Path]:
    """Every module defined under rtl/ (and the bench wrappers of sim/), by name."""
    out: dict[str, Path] = {}
    for path in [*sorted(RTL_DIR.rglob("*.v")), *sorted(SIM_DIR.glob("*.v"))]:
        for name in _MODULE.findall(_COMMENT.sub("", path.read_text())):
            out.setdefault(name, path)
    return out


def rtl_modules() -> list[str]:
    """Names of every module under rtl/ and sim/."""
    return sorted(_index())


def _path(module: str) -> Path:
    index = _index()
    if module not in index:
        raise KeyError(f"no RTL module {module!r} under {RTL_DIR} or {SIM_DIR}")
    return index[module]


def _instances(path: Path) -> list[str]:
    """Modules (of the index) that the file instantiates: `name #(` or `name instance (`."""
    text = _MODULE.sub("", _COMMENT.sub("", path.read_text()))
    return [name for name in _index()
            if re.search(rf"(?<![\w`$.]){name}\b\s*(#|\w+\s*\()", text)]


def instances(module: str) -> list[str]:
    """The modules (defined under rtl/ or sim/) that `module` instantiates directly, by name."""
    return _instances(_path(module))


def files(module: str) -> RtlFiles:
    """The Verilog files, headers and memory images `module` needs, from its instantiations."""
    todo, seen = [_path(module)], []
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.append(path)
        todo += [_path(m) for m in _instances(path)]
    headers: list[Path] = []
    memories: list[Path] = []
    for path in seen:
        text = _COMMENT.sub("", path.read_text())
        for name in _INCLUDE.findall(text):
            h = next((d / name for d in (INCLUDE_DIR, path.parent) if (d / name).is_file()), None)
            if h is not None and h not in headers:
                headers.append(h)
        for name in _STRING.findall(text):
            m = MEM_DIR / Path(name).name
            if name.endswith(".hex") and m.is_file() and m not in memories:
                memories.append(m)
    return RtlFiles(seen, headers, memories)


def sources(module: str) -> list[Path]:
    """The Verilog files to build `module` (pass them, plus your own wrapper, to run_bench)."""
    return files(module).verilog


def memory_parameters(module: str) -> dict[str, str]:
    """The module's string parameters that name a generated image of rtl/mem, set to that
    image's absolute path (quoted, as cocotb's runner passes string parameters)."""
    text = _COMMENT.sub("", _path(module).read_text())
    return {p: f'"{MEM_DIR / Path(v).name}"' for p, v in _STRING_PARAM.findall(text)
            if v.endswith(".hex") and (MEM_DIR / Path(v).name).is_file()}


# --------------------------------------------------------------------------------------------- references


def _u32(v: Any) -> np.ndarray:
    return np.asarray(v, dtype=np.uint64).astype(np.uint32)


def _out(scalar: bool, **ports: Any) -> dict[str, Any]:
    """Output ports as ints when the inputs were scalars, else as uint64 arrays."""
    return {k: int(np.asarray(v).astype(np.uint64)) if scalar else np.asarray(v).astype(np.uint64)
            for k, v in ports.items()}


def _scalar(*vs: Any) -> bool:
    return all(np.ndim(v) == 0 for v in vs)


def fp32_add(a: Any, b: Any, sub: Any = 0) -> dict[str, Any]:
    """rtl/fp/fp32_add.v: y = a + b, or a - b when sub (accel.model.fp.add / sub)."""
    a32, b32 = _u32(a), _u32(b)
    y = np.where(np.asarray(sub, dtype=bool), fp.sub(a32, b32), fp.add(a32, b32))
    return _out(_scalar(a, b, sub), y=y)


def fp32_mul(a: Any, b: Any) -> dict[str, Any]:
    """rtl/fp/fp32_mul.v: y = a * b (accel.model.fp.mul)."""
    return _out(_scalar(a, b), y=fp.mul(_u32(a), _u32(b)))


def fp32_fma(a: Any, b: Any, c: Any) -> dict[str, Any]:
    """rtl/fp/fp32_fma.v: y = a * b + c, rounded once (accel.model.fp.fma)."""
    return _out(_scalar(a, b, c), y=fp.fma(_u32(a), _u32(b), _u32(c)))


def fp32_minmax(a: Any, b: Any, is_max: Any = 0) -> dict[str, Any]:
    """rtl/fp/fp32_minmax.v: y = min(a, b), or max when is_max (accel.model.fp.minimum / maximum)."""
    a32, b32 = _u32(a), _u32(b)
    y = np.where(np.asarray(is_max, dtype=bool), fp.maximum(a32, b32), fp.minimum(a32, b32))
    return _out(_scalar(a, b, is_max), y=y)


def fp32_cmp(a: Any, b: Any) -> dict[str, Any]:
    """rtl/fp/fp32_cmp.v: lt, le, eq of a and b (accel.model.fp.lt / le / eq)."""
    a32, b32 = _u32(a), _u32(b)
    return _out(_scalar(a, b), lt=fp.lt(a32, b32), le=fp.le(a32, b32), eq=fp.eq(a32, b32))


def fp32_to_bf16(x: Any) -> dict[str, Any]:
    """rtl/fp/fp32_to_bf16.v: y = x rounded to bf16, nearest even (accel.model.fp.fp32_to_bf16)."""
    return _out(_scalar(x), y=fp.fp32_to_bf16(_u32(x)))


def bf16_to_fp32(x: Any) -> dict[str, Any]:
    """rtl/fp/bf16_to_fp32.v: y = the binary32 of bf16 x (accel.model.fp.bf16_to_fp32)."""
    return _out(_scalar(x), y=fp.bf16_to_fp32(_u32(x).astype(np.uint16)))


def bf16_mul(a: Any, b: Any) -> dict[str, Any]:
    """rtl/fp/bf16_mul.v: y = a * b of two bf16, exact in binary32 (accel.model.fp.bf16_mul)."""
    return _out(_scalar(a, b), y=fp.bf16_mul(_u32(a).astype(np.uint16), _u32(b).astype(np.uint16)))


def int32_to_fp32(i: Any) -> dict[str, Any]:
    """rtl/fp/int32_to_fp32.v: y = the binary32 nearest the signed int i (accel.model.fp.int32_to_fp32)."""
    return _out(_scalar(i), y=fp.int32_to_fp32(_u32(i).view(np.int32)))


def fp32_to_int(x: Any, int8: Any = 0) -> dict[str, Any]:
    """rtl/fp/fp32_to_int.v: y = x converted to int32, or to int8 sign-extended to 32 bits when int8
    (accel.model.fp.fp32_to_int32 / fp32_to_int8); y is the two's complement word."""
    x32 = _u32(x)
    i8 = fp.fp32_to_int8(x32).astype(np.int32).view(np.uint32)
    i32 = fp.fp32_to_int32(x32).astype(np.int32).view(np.uint32)
    return _out(_scalar(x, int8), y=np.where(np.asarray(int8, dtype=bool), i8, i32))


def dropout_threshold(p: Any) -> dict[str, Any]:
    """rtl/dropout_threshold.v: t = round(p * 2**32) for the magnitude bits p of a binary32 rate in
    [0, 1] (accel.model.rng.threshold); a word is kept when it is >= t. Other p are outside the
    module's specification (ValueError)."""
    p32 = _u32(p)
    if np.any(p32 > ONE_F32):
        raise ValueError(f"dropout_threshold: p must be the bits of a rate in [0, 1] (<= {ONE_F32:#x})")
    return _out(_scalar(p), t=np.vectorize(rng.threshold, otypes=[np.uint64])(p32))


def dropout_scale_bits(p_bits: int) -> int:
    """accel.model.rng.scale for p in [0, 1] (-0 included); the canonical NaN elsewhere."""
    mag = p_bits & 0x7FFFFFFF
    if mag > ONE_F32 or (p_bits >> 31 and mag):
        return QNAN_F32
    return rng.scale(p_bits)


def dropout_scale(p: Any) -> dict[str, Any]:
    """rtl/dropout_scale.v (multi-cycle: start, then done): scale = the binary32 nearest 1 / (1 - p) for
    p in [0, 1], the canonical NaN for any other p (accel.model.rng.scale)."""
    return _out(_scalar(p), scale=np.vectorize(dropout_scale_bits, otypes=[np.uint64])(_u32(p)))


def decoder(instr: int) -> dict[str, int]:
    """rtl/decoder.v: every output port for the 512-bit instruction word (accel.tb.decoder_ref)."""
    from accel.tb import decoder_ref

    return decoder_ref.expected(int(instr))


def act_func_words(f: Any, x: np.ndarray, scale: int, bias: int, bf16: bool) -> np.ndarray:
    """rtl/act_func.v's result words for the function f (an accel.model.lut.Function):
    from_f32(apply(f, add(mul(x, scale), bias))), bf16 in the low half (accel.kernels.lut.apply, bit
    for bit the model's and faster)."""
    from accel.kernels import lut as kernel

    x = np.asarray(x, dtype=np.uint32)
    u = fp.add(fp.mul(x, np.full_like(x, scale)), np.full_like(x, bias))
    y = kernel.apply(f, u)
    return fp.fp32_to_bf16(y).astype(np.uint32) if bf16 else y.astype(np.uint32)


def act_func(x: Any, scale: int, bias: int, bf16: int = 0, function: Any = "exp") -> dict[str, Any]:
    """rtl/act_func.v (pipelined, 22 clocks from in_valid to out_valid): y = function(x * scale + bias)
    as binary32, or as bf16 in y[15:0] when bf16 (accel.model.lut.apply after accel.model.fp's mul and
    add). `function` is the image in the unit's RAM: a built-in's name or an accel.model.lut.Function."""
    from accel.model import lut

    f = lut.builtin(function) if isinstance(function, str) else function
    return _out(_scalar(x), y=act_func_words(f, np.atleast_1d(_u32(x)), int(scale), int(bias), bool(bf16))
                .reshape(np.shape(x)))


def rng_philox(counter: Any, key: tuple[int, int]) -> np.ndarray:
    """rtl/rng_philox.v: Philox4x32-10 of [n, 4] uint32 counter words under key (k0, k1)
    (accel.model.rng.philox4x32): [n, 4] uint32 output words."""
    return rng.philox4x32(np.asarray(counter, dtype=np.uint32), key)


def rng_xoroshiro(state: Any, n: int) -> np.ndarray:
    """rtl/rng_xoroshiro.v: the first n xoroshiro128aox outputs of each lane's [lanes, 2] uint64 state
    (accel.model.rng.xoroshiro_outputs)."""
    return rng.xoroshiro_outputs(np.asarray(state, dtype=np.uint64), n)


def splitmix64_seeder(seed: int, lanes: int) -> np.ndarray:
    """rtl/splitmix64_seeder.v: the [lanes, 2] uint64 xoroshiro states a 64-bit seed gives
    (accel.model.rng.lane_states)."""
    return rng.lane_states(int(seed), lanes)


def pe_array(ops: list, rows: int, cols: int, psum: np.ndarray) -> Any:
    """rtl/pe_array.v: a program of accel.model.pe_array.LoadWeights / Matmul ops on a rows x cols
    array, from a PSUM image (accel.model.pe_array.run_ops: the PSUM writes and final PSUM)."""
    from accel.model import pe_array as model

    return model.run_ops(ops, rows, cols, psum)


def sparse_array(ops: list, rows: int, cols: int, psum: np.ndarray) -> Any:
    """rtl/sparse_array.v: a program of accel.model.sparse.LoadSparse / MatmulSparse ops
    (accel.model.sparse.run_ops: the PSUM writes and final PSUM)."""
    from accel.model import sparse as model

    return model.run_ops(ops, rows, cols, psum)


def vec_engine(program: Any, inputs: dict[str, np.ndarray] | None = None) -> Any:
    """rtl/vec_engine.v: a program of VEC instructions run on accel.Core with the plain model
    (accel.machine.Core(backend="model").run)."""
    from accel.machine import Core

    return Core(backend="model").run(program, inputs or {})


REFERENCES: dict[str, Callable[..., Any]] = {f.__name__: f for f in (
    fp32_add, fp32_mul, fp32_fma, fp32_minmax, fp32_cmp, fp32_to_bf16, bf16_to_fp32, bf16_mul,
    int32_to_fp32, fp32_to_int, dropout_threshold, dropout_scale, decoder, act_func, rng_philox,
    rng_xoroshiro, splitmix64_seeder, pe_array, sparse_array, vec_engine)}


def reference(module: str) -> Callable[..., Any]:
    """The model of exactly what RTL module `module` computes (see REFERENCES for the list)."""
    if module not in REFERENCES:
        raise KeyError(f"no reference model for RTL module {module!r}; there is one for "
                       f"{', '.join(sorted(REFERENCES))}")
    return REFERENCES[module]

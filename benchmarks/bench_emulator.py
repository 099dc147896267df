"""Functional emulator and assembler speed: instructions per second on many small instructions.

    python benchmarks/bench_emulator.py                          # both programs, both backends
    python benchmarks/bench_emulator.py --save after.json        # also write the figures
    python benchmarks/bench_emulator.py --before before.json     # print before/after ratios too

Two programs of small instructions, the shape of compiled code, where the per-instruction cost of
the machine (decoding operands, bounds, the stream-order check, memory access) decides the speed:

* `vec.add`: 20,000 `vec.add` of 8 x 16 fp32 (operands rotating over 64 SBUF slots, inputs with
  NaN payloads, infinities, subnormals and signed zeros), between one DMA load and one store;
* `mixed`: tiles of 16 x 16 through every engine, chained by semaphores: DMA load, bf16
  `pe.matmul`, `act.relu` with a per-partition bias, `act.func` (exp), VEC tensor-scalar,
  elementwise, reductions, casts to bf16 and int8, a copy, dropout, and the DMA store.

A third text is a compiler listing (`--model`, default ResNet-50 at 224 x 224 from
accel.compiler.zoo: every core segment's listing, 12,144 lines, mostly distinct), timed by the
assembler only.

Each runs on `Core(backend="model")` (the golden model: the reference) and `Core(backend="fast")`
(the default); both give bit-identical outputs (checked). A run is a fresh core's load (which
includes the static checks) and its steps to the end: the functional emulator, not Core.run's
timeline. The assembler is timed on the same
texts (lines per second). With --before, each figure is printed beside the saved one and their
ratio. Best of --repeat for the fast backend and the assembler; one run of the model backend.
Rates are given by wall-clock time and by this process's CPU time (steadier on a shared machine).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from accel.isa.asm import assemble  # noqa: E402
from accel.machine import Core  # noqa: E402

SLOTS = 64  # 8 x 16 fp32 operand slots of 64 bytes per partition


def special_f32(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """float32 values: mostly normal numbers, some NaNs with payloads, infinities, subnormals, +-0."""
    x = rng.standard_normal(shape).astype(np.float32)
    bits = x.view(np.uint32)
    specials = np.array([0x7FC12345, 0xFFA00001, 0x7F800000, 0xFF800000, 0x00000001, 0x807FFFFF, 0, 0x80000000],
                        dtype=np.uint32)
    pick = rng.random(shape) < 0.05
    bits[pick] = rng.choice(specials, int(pick.sum()))
    return x


def vec_add_program(n: int) -> str:
    """n `vec.add` of 8 x 16 fp32 over rotating SBUF slots, between a DMA load and a store."""
    lines = [f".tensor x fp32[8, {SLOTS * 16}] in", f".tensor y fp32[8, {SLOTS * 16}] out",
             f"dma.load sb[0:8, 0]:fp32[{SLOTS * 16}], x", "sem.signal dma, s0", "sem.wait vec, s0"]
    for i in range(n):
        d, a, b = (7 * i + 3) % SLOTS, i % SLOTS, (13 * i + 5) % SLOTS
        lines.append(f"vec.add sb[0:8, {64 * d}]:fp32[16], sb[0:8, {64 * a}]:fp32[16], sb[0:8, {64 * b}]:fp32[16]")
    lines += ["sem.signal vec, s1", "sem.wait dma, s1", f"dma.store y, sb[0:8, 0]:fp32[{SLOTS * 16}]", "halt"]
    return "\n".join(lines) + "\n"


def vec_add_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"x": special_f32(rng, (8, SLOTS * 16))}


def mixed_program(tiles: int) -> str:
    """`tiles` 16 x 16 tiles through DMA, PE, ACT and VEC, each step ordered by a semaphore."""
    t16 = 16
    lines = [f".tensor x bf16[{tiles * t16}, {t16}] in", f".tensor w bf16[{t16}, {t16}] in",
             f".tensor b fp32[{t16}, 1] in", f".tensor y bf16[{tiles * t16}, {t16}] out",
             f".tensor r fp32[{tiles * t16}, 1] out", f".tensor q int8[{tiles * t16}, {t16}] out",
             ".const W = 0", ".const B = 64", ".const X = 128", ".const H = 1024", ".const V = 2048",
             ".const Y = 3072", ".const R = 3200", ".const Q = 3264", ".const M = 3328",
             "dma.load sb[0:16, W]:bf16[16], w", "dma.load sb[0:16, B]:fp32[1], b", "sem.signal dma, s0",
             "sem.wait pe, s0", "pe.load_weights sb[0:16, W]:bf16[16]"]
    for t in range(tiles):
        xs, hs, vs = f"X + {32 * (t % 8)}", f"H + {64 * (t % 8)}", f"V + {64 * (t % 8)}"
        bank = 2048 * (t % 8)
        lines += [
            f"dma.load sb[0:16, {xs}]:bf16[16], x({t * 256})[16@16, 16@1]", "sem.signal dma, s1",
            "sem.wait pe, s1", f"pe.matmul psum[0:16, {bank}]:fp32[16], sb[0:16, {xs}]:bf16[16]", "sem.signal pe, s2",
            "sem.wait act, s2",
            f"act.relu sb[0:16, {hs}]:fp32[16], psum[0:16, {bank}]:fp32[16], scale=0.5, bias=sb[0:16, B]:fp32[1]",
            f"act.func sb[0:16, {vs}]:fp32[16], sb[0:16, {hs}]:fp32[16], fn=0, scale=-0.25", "sem.signal act, s3",
            "sem.wait vec, s3",
            f"vec.muls sb[0:16, {hs}]:fp32[16], sb[0:16, {hs}]:fp32[16], 1.5",
            f"vec.add sb[0:16, {vs}]:fp32[16], sb[0:16, {vs}]:fp32[16], sb[0:16, {hs}]:fp32[16]",
            f"vec.max sb[0:16, {vs}]:fp32[16], sb[0:16, {vs}]:fp32[16], sb[0:16, {hs}]:fp32[16]",
            f"vec.reduce_sum sb[0:16, R]:fp32[1], sb[0:16, {vs}]:fp32[16]",
            f"vec.dropout sb[0:16, {vs}]:fp32[16], sb[0:16, {vs}]:fp32[16], p=0.25, base={t * 256}",
            f"vec.cast sb[0:16, Y]:bf16[16], sb[0:16, {vs}]:fp32[16]",
            f"vec.cast sb[0:16, Q]:int8[16], sb[0:16, {hs}]:fp32[16]",
            "vec.copy sb[0:16, M]:bf16[16], sb[0:16, Y]:bf16[16]",
            "sem.signal vec, s4", "sem.wait dma, s4",
            f"dma.store y({t * 256})[16@16, 16@1], sb[0:16, M]:bf16[16]",
            f"dma.store r({t * 16})[16@1, 1@1], sb[0:16, R]:fp32[1]",
            f"dma.store q({t * 256})[16@16, 16@1], sb[0:16, Q]:int8[16]",
        ]
    lines.append("halt")
    return "\n".join(lines) + "\n"


def mixed_inputs(rng: np.random.Generator, tiles: int) -> dict[str, np.ndarray]:
    return {"x": special_f32(rng, (tiles * 16, 16)), "w": rng.standard_normal((16, 16)).astype(np.float32),
            "b": rng.standard_normal((16, 1)).astype(np.float32)}


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best wall time, best CPU time of this process, last result) of `repeat` calls. On a shared
    machine the CPU time is the steadier figure: it leaves out the time other processes held the core."""
    wall, cpu, result = np.inf, np.inf, None
    for _ in range(repeat):
        start, cstart = time.perf_counter(), time.process_time()
        result = fn()
        cpu = min(cpu, time.process_time() - cstart)
        wall = min(wall, time.perf_counter() - start)
    return wall, cpu, result


def functional(prog: Any, inputs: dict[str, np.ndarray], backend: str = "fast") -> Core:
    """A fresh core that loaded and ran `prog` instruction by instruction (Core.step): the functional
    emulator alone, without Core.run's timeline (accel.timing, measured by its own benchmark)."""
    core = Core(backend=backend)
    core.load(prog, inputs)
    while core.step() is not None:
        pass
    return core


def same_bits(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return sorted(a) == sorted(b) and all(np.array_equal(a[k].view(np.uint8), b[k].view(np.uint8)) for k in a)


def measure(name: str, text: str, inputs: dict[str, np.ndarray], repeat: int) -> dict[str, float]:
    """Instructions per second on both backends and assembler lines per second, for one program
    (wall-clock and CPU-time rates)."""
    lines = text.count("\n")
    asm_s, asm_c, prog = best(lambda: assemble(text, f"{name}.s"), repeat)
    functional(prog, inputs)  # compile what the fast backend compiles, outside the timing
    fast_s, fast_c, fast = best(lambda: functional(prog, inputs), repeat)
    model_s, model_c, model = best(lambda: functional(prog, inputs, "model"), 1)
    if not same_bits(fast.outputs(), model.outputs()):
        raise SystemExit(f"{name}: the fast backend's outputs differ from the model's")
    steps = fast.stats.steps
    return {"instructions": steps, "lines": lines, "model_ips": steps / model_s, "fast_ips": steps / fast_s,
            "asm_lps": lines / asm_s, "model_ips_cpu": steps / model_c, "fast_ips_cpu": steps / fast_c,
            "asm_lps_cpu": lines / asm_c}


def compiled_listings(model: str, size: int) -> list[str]:
    """The listing of every core segment of an accel.compiler.zoo ImageNet network."""
    from accel.compiler import compile_model
    from accel.compiler.zoo import imagenet

    compiled = compile_model(imagenet(model, size=size))
    return [step.listing for step in compiled.steps if step.kind == "core"]


def measure_listings(name: str, texts: list[str], repeat: int) -> dict[str, float]:
    """Assembler lines per second over a compiler's segment listings (wall-clock and CPU time)."""
    lines = sum(text.count("\n") for text in texts)
    asm_s, asm_c, _ = best(lambda: [assemble(text, f"{name}{k}.s") for k, text in enumerate(texts)], repeat)
    return {"lines": lines, "asm_lps": lines / asm_s, "asm_lps_cpu": lines / asm_c}


FIGURES = (("model_ips", "model backend, instructions/s"), ("fast_ips", "fast backend, instructions/s"),
           ("asm_lps", "assembler, lines/s"))


def report(results: dict[str, dict[str, float]], before: dict[str, dict[str, float]] | None) -> None:
    for name, r in results.items():
        print(f"\n{name}: {int(r.get('instructions', 0)):,} instructions, {int(r['lines']):,} lines"
              f"{'':14}wall-clock    CPU time")
        for key, label in FIGURES:
            if key not in r:  # a listing is only assembled
                continue
            row = f"  {label:<32} {r[key]:>12,.0f} {r.get(key + '_cpu', np.nan):>11,.0f}"
            if key == "fast_ips":
                row += f"  ({1e6 / r[key + '_cpu']:.1f} us CPU each, {r[key] / r['model_ips']:.1f}x the model)"
            if before and name in before:
                b = before[name]
                row += f"   before {b[key]:>9,.0f} {b.get(key + '_cpu', np.nan):>9,.0f}"
                row += f"  after/before {r[key] / b[key]:5.1f}x"
                if key + "_cpu" in b:
                    row += f" {r[key + '_cpu'] / b[key + '_cpu']:5.1f}x"
            print(row)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20000, help="vec.add instructions (default 20000)")
    ap.add_argument("--tiles", type=int, default=1000, help="tiles of the mixed program (23 instructions each)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--model", default="resnet50", help="accel.compiler.zoo network whose listing is assembled "
                    "(default resnet50; 'none': skip)")
    ap.add_argument("--size", type=int, default=224, help="its input size (default 224)")
    ap.add_argument("--save", help="write the figures to this JSON file")
    ap.add_argument("--before", help="JSON file of an earlier --save, printed beside these figures")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    results = {
        "vec.add": measure("vec_add", vec_add_program(args.n), vec_add_inputs(rng), args.repeat),
        "mixed": measure("mixed", mixed_program(args.tiles), mixed_inputs(rng, args.tiles), args.repeat),
    }
    if args.model != "none":
        results[f"{args.model} listing"] = measure_listings(args.model, compiled_listings(args.model, args.size),
                                                            args.repeat)
    before = json.loads(open(args.before).read()) if args.before else None
    report(results, before)
    if args.save:
        with open(args.save, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Dropout throughput: the Numba kernel (Philox4x32-10, bit-exact with the model and the RTL) next to
numpy.random generating and applying a mask on the same tensor, in one run.

    python benchmarks/bench_dropout.py                  # 2**24 fp32 elements, p = 0.1
    python benchmarks/bench_dropout.py --n 4194304 --repeat 9

Rows: accel.kernels.rng.dropout_philox (all threads Numba has, and one thread); numpy's default
generator (PCG64) and numpy's Philox bit generator, each drawing float32 uniforms, comparing them with
p and scaling survivors by 1/(1-p) in float32 (np.where). Elements per second, best of --repeat runs.
The Numba result is checked against accel.model.rng on a slice before timing.
"""

from __future__ import annotations

import argparse
import sys
import time

import numba
import numpy as np

from accel.kernels import rng as krng
from accel.model import fp
from accel.model import rng as mrng

SEED, OFFSET = 0x0123456789ABCDEF, 7


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def numpy_dropout(gen: np.random.Generator, x: np.ndarray, p: float) -> np.ndarray:
    keep = gen.random(x.size, dtype=np.float32) >= np.float32(p)
    return np.where(keep, x * np.float32(1.0 / (1.0 - p)), np.float32(0.0))


def check(x: np.ndarray, p: float) -> None:
    """The kernel equals the golden model on the first 4096 elements (a different base too)."""
    for base in (0, 3):
        n = 4096
        words = mrng.philox_words(SEED, OFFSET, np.arange(n, dtype=np.uint64) + np.uint64(base))
        want, _ = mrng.dropout_f32(fp.f32_bits(x[:n]), words, int(fp.f32_bits(np.float32(p))))
        got = krng.dropout_philox(x[:n], SEED, OFFSET, p, base)
        if not np.array_equal(got, want):
            sys.exit("kernel differs from accel.model.rng")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1 << 24, help="elements (default 2**24)")
    ap.add_argument("--p", type=float, default=0.1)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    x = np.random.default_rng(0).standard_normal(args.n).astype(np.float32)
    check(x, args.p)
    krng.dropout_philox(x[:1024], SEED, OFFSET, args.p)  # compile
    threads = numba.get_num_threads()
    rows = [(f"accel.kernels.rng.dropout_philox ({threads} threads)",
             best(lambda: krng.dropout_philox(x, SEED, OFFSET, args.p), args.repeat))]
    numba.set_num_threads(1)
    rows.append(("accel.kernels.rng.dropout_philox (1 thread)",
                 best(lambda: krng.dropout_philox(x, SEED, OFFSET, args.p), args.repeat)))
    numba.set_num_threads(threads)
    pcg = np.random.default_rng(1)
    rows.append(("numpy default_rng (PCG64) mask + apply", best(lambda: numpy_dropout(pcg, x, args.p), args.repeat)))
    phil = np.random.Generator(np.random.Philox(1))
    rows.append(("numpy Generator(Philox) mask + apply", best(lambda: numpy_dropout(phil, x, args.p), args.repeat)))
    ref = rows[2][1]
    print(f"dropout of {args.n} fp32 elements, p = {args.p}, best of {args.repeat}")
    print("| implementation | seconds | elements/s | vs numpy default_rng |")
    print("|---|---|---|---|")
    for name, t in rows:
        print(f"| {name} | {t:.4f} | {args.n / t:,.0f} | {ref / t:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

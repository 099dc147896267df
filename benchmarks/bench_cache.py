"""The instruction database (accel/compiler/cache.py) on whole networks: compile seconds without the
database, cold (an empty database: every node lowered and stored, repeated blocks found), warm (the
same model again), the hit rates, and where the warm compile's time goes.

    PYTHONPATH=. python benchmarks/bench_cache.py [--models resnet50,transformer] [--repeat 3]

Each compile runs in this process one after another (the best of --repeat for each kind); the
database is a fresh temporary folder per model. The phases of the warm compile are from cProfile
(cumulative seconds of import_onnx, place, the lowering through the database, assembly).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_models import build  # noqa: E402

from accel.compiler import compile_model  # noqa: E402
from accel.compiler.cache import InstructionCache  # noqa: E402


def timed(model, cache=None) -> tuple[float, object]:
    t = time.perf_counter()
    m = compile_model(model, cache=cache)
    return time.perf_counter() - t, m


def phases(model, folder: str) -> dict[str, float]:
    pr = cProfile.Profile()
    pr.enable()
    compile_model(model, cache=folder)
    pr.disable()
    st = pstats.Stats(pr).stats  # type: ignore[attr-defined]
    want = {"import_onnx": "import", "place": "place", "lower": "lower", "assemble": "assemble"}
    out: dict[str, float] = {}
    for (file, _, fn), (_, _, _, cum, _) in st.items():
        if fn in want and ("compiler" in file or "isa" in file):
            if fn == "lower" and "cache.py" not in file:
                continue
            out[want[fn]] = out.get(want[fn], 0.0) + cum
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet50,transformer")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{'model':<12} {'no db s':>8} {'cold s':>8} {'warm s':>8} {'warm/cold':>9} {'cold hits':>10} "
          f"{'warm hits':>10}  warm phases (s, under cProfile)")
    for name in args.models.split(","):
        model = build(name)
        plain = min(timed(model)[0] for _ in range(args.repeat))
        colds, warms = [], []
        for _ in range(args.repeat):
            folder = tempfile.mkdtemp(prefix="accel-cache-")
            t, cold = timed(model, InstructionCache(folder))
            colds.append((t, cold))
            t, warm = timed(model, InstructionCache(folder))
            warms.append((t, warm))
            assert warm.listing == cold.listing
        (tc, cold), (tw, warm) = min(colds, key=lambda x: x[0]), min(warms, key=lambda x: x[0])
        cs, ws = cold.cache_stats, warm.cache_stats
        ph = phases(model, folder)
        print(f"{name:<12} {plain:>8.2f} {tc:>8.2f} {tw:>8.2f} {tw / tc:>9.2f} "
              f"{cs['hits']:>4}/{cs['hits'] + cs['misses']:<5} {ws['hits']:>4}/{ws['hits'] + ws['misses']:<5}  "
              + ", ".join(f"{k} {v:.2f}" for k, v in ph.items()))


if __name__ == "__main__":
    main()

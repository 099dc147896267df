"""The instruction database (accel/compiler/cache.py) on whole networks: compile seconds without the
database, cold (an empty database: every node lowered and stored, repeated blocks found, the
segment and the whole model stored), warm (the same model again: the whole-model entry), and one
layer changed (one weight of the middle Conv/Gemm/MatMul changed, into the warm database: the
whole-model entry misses, the nodes and the segment are found), and another CoreConfig (the DMA's
bandwidth doubled, as a sweep's next point, into the same database: only the import is found, the
graph entry); hit rates, disk use, where the warm compile's time goes, and the measurements behind
what is stored.

    PYTHONPATH=. python benchmarks/bench_cache.py [--models resnet50,transformer] [--repeat 3]

Each compile runs in this process one after another; per kind the best of --repeat, wall seconds
(time.perf_counter) and CPU seconds of this process (time.process_time: on a shared machine, what
one core spent) taken separately; the load average is printed beside. The database is a fresh
temporary folder per repeat (deleted at the end). The warm phases are from cProfile (cumulative seconds): opening the
database, the model's identifier (reading its initializers out of the protobuf, hashing the small
ones), comparing the large ones with the entry's copies, loading the stored pickle (blobs mapped),
writing the hit count, the rest (the garbage collector's passes over the loaded objects among it).
"formats": one segment's program loaded as a pickle of its instruction objects (what the entries
store), decoded from its binary (Program.from_bytes), assembled from its listing; the
initializers hashed by SHA-256 and BLAKE2b.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pickle
import pstats
import sys
import tempfile
import time
from pathlib import Path

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_models import build  # noqa: E402

from accel.compiler import compile_model, zoo  # noqa: E402
from accel.compiler.cache import InstructionCache  # noqa: E402
from accel.config import CoreConfig  # noqa: E402
from accel.isa.asm import assemble  # noqa: E402
from accel.isa.encoding import Program  # noqa: E402


def timed(model, cache=None, config=None) -> tuple[float, float, object]:
    """(wall s, CPU s, compiled model) of one compile."""
    t, c = time.perf_counter(), time.process_time()
    m = compile_model(model, config, cache=cache)
    return time.perf_counter() - t, time.process_time() - c, m


CONFIG = CoreConfig(dma_bytes_per_cycle=2 * CoreConfig().dma_bytes_per_cycle)  # another point of a sweep


def one_layer_changed(model: onnx.ModelProto) -> tuple[onnx.ModelProto, str]:
    """A copy with one element of the weight of the middle Conv/Gemm/MatMul changed, and its name."""
    inits = {t.name for t in model.graph.initializer}
    layers = [n for n in model.graph.node if n.op_type in ("Conv", "Gemm", "MatMul") and n.input[1] in inits]
    name = layers[len(layers) // 2].input[1]
    return zoo.with_weight_changed(model, name), name


def phases(model, folder: str) -> dict[str, float]:
    """Cumulative seconds (cProfile) of a warm compile's parts, the database opened inside."""
    pr = cProfile.Profile()
    pr.enable()
    compile_model(model, cache=InstructionCache(folder))
    pr.disable()
    st = pstats.Stats(pr).stats  # type: ignore[attr-defined]
    want = {("cache.py", "__init__"): "open", ("cache.py", "model_identifier"): "identifier",
            ("cache.py", "equal"): "compare", ("cache.py", "_loads"): "load", ("cache.py", "flush"): "flush",
            ("model.py", "compile_model"): "total"}
    out = dict.fromkeys(want.values(), 0.0)
    for (file, _, fn), (_, _, _, cum, _) in st.items():
        k = want.get((Path(file).name, fn))
        if k and "accel" in file:
            out[k] += cum
    total = out.pop("total") + out["open"]
    out["rest"] = total - sum(out.values())
    return out


def best(f, n: int = 3) -> float:
    t = float("inf")
    for _ in range(n):
        c = time.process_time()
        f()
        t = min(t, time.process_time() - c)
    return t


def formats(model, cm) -> dict[str, float]:
    """CPU seconds to get the first segment's program each way, and to hash the initializers."""
    step = next(s for s in cm.steps if s.kind == "core")
    pickled, binary = pickle.dumps(step.program, protocol=5), step.program.to_bytes()
    raws = [t.raw_data for t in model.graph.initializer]
    return {"pickle": best(lambda: pickle.loads(pickled)),
            "from_bytes": best(lambda: Program.from_bytes(binary, cm.config), 1),
            "assemble": best(lambda: assemble(step.listing, "x.s", config=cm.config), 1),
            "sha256": best(lambda: [hashlib.sha256(r).digest() for r in raws]),
            "blake2b": best(lambda: [hashlib.blake2b(r).digest() for r in raws]),
            "MB": sum(map(len, raws)) / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet50,transformer")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for name in args.models.split(","):
        model = build(name)
        other, layer = one_layer_changed(model)
        runs: dict[str, list[tuple[float, float]]] = {"no db": [], "cold": [], "warm": [], "changed": [],
                                                      "config": []}
        loads = []
        keep = tempfile.TemporaryDirectory(prefix="accel-cache-")  # deleted with the last repeat's database
        for k in range(args.repeat):
            loads.append(os.getloadavg()[0])
            runs["no db"].append(timed(model)[:2])
            folder = str(Path(keep.name) / str(k))
            *t, cold = timed(model, InstructionCache(folder))
            runs["cold"].append(tuple(t))
            *t, warm = timed(model, InstructionCache(folder))
            runs["warm"].append(tuple(t))
            *t, changed = timed(other, InstructionCache(folder))
            runs["changed"].append(tuple(t))
            *t, other_config = timed(model, InstructionCache(folder), CONFIG)
            runs["config"].append(tuple(t))
            assert warm.listing == cold.listing == changed.listing
            assert warm.cache_stats["model"] == "hit" and changed.cache_stats["model"] == "stored"
            assert other_config.cache_stats["graph"] == "hit"
        wall = {k: min(w for w, _ in v) for k, v in runs.items()}
        cpu = {k: min(c for _, c in v) for k, v in runs.items()}
        disk = InstructionCache(folder).summary()
        ph = phases(model, folder)
        fm = formats(model, cold)
        cs, ws, xs = cold.cache_stats, warm.cache_stats, changed.cache_stats
        del cold, warm, changed, other_config  # their blobs are mapped
        keep.cleanup()
        rows.append((name, layer, wall, cpu, cs, ws, xs, disk, ph, fm, loads))
    print(f"{'model':<12} {'':>4} {'no db':>7} {'cold':>7} {'warm':>7} {'changed':>8} {'config':>7} "
          f"{'warm/cold':>9} {'warm/no db':>10} {'changed/cold':>12} {'config/cold':>11}")
    for name, _, wall, cpu, *_ in rows:
        for what, d in (("wall", wall), ("cpu", cpu)):
            print(f"{name:<12} {what:>4} {d['no db']:>7.3f} {d['cold']:>7.3f} {d['warm']:>7.3f} {d['changed']:>8.3f} "
                  f"{d['config']:>7.3f} {d['warm'] / d['cold']:>9.3f} {d['warm'] / d['no db']:>10.3f} "
                  f"{d['changed'] / d['cold']:>12.3f} {d['config'] / d['cold']:>11.3f}")
    for name, layer, _, _, cs, ws, xs, disk, ph, fm, loads in rows:
        n = cs["hits"] + cs["misses"]
        print(f"{name}: nodes found cold {cs['hits']}/{n}, warm {ws['hits']}/{n} (whole model), changed ({layer}) "
              f"{xs['hits']}/{n} + segments {xs['segment_hits']}/{xs['segment_hits'] + xs['segment_misses']}; "
              f"disk {disk['database_bytes'] / 1e6:.1f} MB database + {disk['blob_bytes'] / 1e6:.1f} MB in "
              f"{disk['blobs']} blobs; load average {min(loads):.1f}-{max(loads):.1f}")
        print("  warm under cProfile (s): " + ", ".join(f"{k} {v:.3f}" for k, v in ph.items()))
        print(f"  formats (CPU s): program pickle {fm['pickle']:.3f}, from_bytes {fm['from_bytes']:.3f}, "
              f"assemble {fm['assemble']:.3f}; {fm['MB']:.0f} MB of initializers: sha256 {fm['sha256']:.3f}, "
              f"blake2b {fm['blake2b']:.3f}")


if __name__ == "__main__":
    main()

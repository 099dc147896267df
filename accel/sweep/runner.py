"""Running a sweep: each point compiles its model for its config and runs it with timing (or schedules
the core programs alone), and records cycles, the bound, PE utilization, area, energy and DRAM bytes.
Points run on a local process pool or a Dask cluster; each result is cached as one JSON file keyed by a
content hash, so an interrupted sweep resumes where it stopped (docs/sweep.md)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accel import __version__
from accel.config import CoreConfig
from accel.sweep.spec import ModelSpec, Spec
from accel.timing.report import BOUNDS

_DEFAULTS = {f.name: f.default for f in dataclasses.fields(CoreConfig)}


@dataclass(frozen=True)
class Model:
    """A model as the workers get it: its bytes (ONNX, or a program's source or binary) and digest."""

    label: str
    kind: str  # "onnx" or "program"
    data: bytes
    name: str
    input_shapes: tuple[tuple[str, tuple[int, ...]], ...]
    digest: str


def resolve(m: ModelSpec) -> Model:
    """Build or read a spec's model once (a zoo network is built here, in the caller)."""
    args = dict(m.args)
    if m.kind == "zoo":
        from accel.compiler import zoo

        build = zoo.transformer_layer if m.what == "transformer_layer" else \
            (lambda **kw: zoo.imagenet(m.what, **kw))
        try:
            data = build(**args).SerializeToString()
        except TypeError as e:
            raise ValueError(f"zoo {m.what}: {e}") from None
        kind, shapes = "onnx", ()
    else:
        data = Path(m.what).read_bytes()
        kind = m.kind
        shapes = tuple((k, tuple(v)) for k, v in dict(args.get("input_shapes", ())).items())
    return Model(m.label, kind, data, Path(m.what).name, shapes, hashlib.sha256(data).hexdigest())


@functools.cache
def accel_digest() -> str:
    """accel's version and a hash of its sources (every module and the ISA table), so a cached point
    is redone after any change to the compiler, the cost model or the ISA, released or not."""
    from accel.isa.resources import ISA_TOML

    h = hashlib.sha256(__version__.encode())
    root = Path(__file__).resolve().parents[1]
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    h.update(Path(ISA_TOML).read_bytes())
    return f"{__version__}+{h.hexdigest()[:16]}"


def point_key(model: Model, config: dict[str, int], cost_model_only: bool) -> str:
    """Content hash of a point: the model's bytes, every CoreConfig field, the mode and accel's
    version and sources (accel_digest)."""
    full = {**_DEFAULTS, **config}
    text = json.dumps({"model": model.digest, "shapes": model.input_shapes, "config": full,
                       "cost_model_only": cost_model_only, "accel": accel_digest()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _program(model: Model, config: CoreConfig):
    from accel.isa.asm import assemble
    from accel.isa.encoding import MAGIC, Program

    if model.data[:4] == MAGIC:
        return Program.from_bytes(model.data, config)
    return assemble(model.data, model.name, config)


def _timelines(model: Model, config: CoreConfig, cost_model_only: bool) -> tuple[list, float, float, bool]:
    """The run's core timelines, compile (or assemble) seconds, run (or schedule) seconds and whether
    the compile reused a kept lowering (_compiled)."""
    from accel.timing.schedule import schedule

    t0 = time.perf_counter()
    if model.kind == "program":
        prog = _program(model, config)
        t1 = time.perf_counter()
        if cost_model_only:
            tls = [schedule(prog, config)]
        else:
            from accel.machine import Core

            inputs = _random_inputs([(t.name, t.shape, t.dtype) for t in prog.tensors if t.role in ("in", "inout")])
            tls = [Core(config).run(prog, inputs).timeline]
        return tls, t1 - t0, time.perf_counter() - t1, False
    cm, reused = _compiled(model, config)
    t1 = time.perf_counter()
    if cost_model_only:  # the core segments' programs, scheduled without values; host steps take no core time
        tls = [schedule(s.program, config) for s in cm.steps if s.kind == "core"]
    else:
        g = cm.graph
        inputs = _random_inputs([(n, g.values[n].shape, "fp32") for n in g.inputs])
        tls = cm.run(inputs).timelines
    return tls, t1 - t0, time.perf_counter() - t1, reused


class _Reads(CoreConfig):
    """A CoreConfig that notes which of its fields are read: the compiler's lowering runs on one, so a
    later point can reuse that lowering exactly when it agrees on those fields."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_read", set())
        super().__post_init__()
        self._read.clear()  # the range checks read every field

    def __getattribute__(self, name: str) -> Any:
        if name in _DEFAULTS:
            object.__getattribute__(self, "_read").add(name)
        return object.__getattribute__(self, name)


LOWERINGS_KEPT = 3  # per worker: each holds a compiled model (ResNet-50: its graph and prepared weights)
_LOWERED: list[tuple[str, dict[str, Any], Any]] = []  # (model digest, fields read and their values, compiled)


def _compiled(model: Model, config: CoreConfig) -> tuple[Any, bool]:
    """compile_model(model, config), sharing the lowering with earlier points of this worker: the
    model is compiled without the reordering pass on a config that records the fields it reads (sizes,
    DMA bandwidth, what the assembler checks; the timing constants only steer reorder.py), and kept; a
    later point whose config has the same values of those fields takes the kept segments and their
    assembled programs, and reorder.improve runs on them with the point's own timing constants, as
    compile_model's last step does. The result is the program compile_model gives
    (tests/sweep/test_sweep_runner.py). Returns it and whether a kept lowering was used."""
    from accel.compiler import model as compiler
    from accel.compiler import plan, reorder

    start = time.perf_counter()
    base = next((cm for digest, read, cm in _LOWERED if digest == model.digest
                 and all(getattr(config, k) == v for k, v in read.items())), None)
    reused = base is not None
    if base is None:
        rec = _Reads(**{f: getattr(config, f) for f in _DEFAULTS})
        base = compiler.compile_model(model.data, rec, input_shapes=dict(model.input_shapes),
                                      options=plan.Options(reorder=False))
        _LOWERED.insert(0, (model.digest, {k: getattr(config, k) for k in rec._read}, base))
        del _LOWERED[LOWERINGS_KEPT:]
    steps = []
    for s in base.steps:
        if s.kind == "core":
            seg = dataclasses.replace(s.segment, config=config)  # the builder is carried over, not rebuilt
            seg.builder = s.segment.builder
            program, before, after = reorder.improve(seg, s.program)
            s = dataclasses.replace(s, segment=seg, program=program, listing=seg.program_text(),
                                    node_of=list(seg.builder.line_nodes), reorder={"before": before, "after": after})
        steps.append(s)
    return dataclasses.replace(base, config=config, steps=steps, options=plan.Options(),
                               compile_seconds=time.perf_counter() - start), reused


def _random_inputs(tensors: list[tuple[str, tuple[int, ...], str]]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {name: rng.integers(-128, 128, size=shape, dtype=np.int32) if dtype in ("int8", "int32")
            else rng.standard_normal(shape).astype(np.float32) for name, shape, dtype in tensors}


def measure(tls: list, config: CoreConfig) -> dict[str, Any]:
    """Cycles, bound, utilization, DRAM bytes, area and energy of a run's core timelines."""
    from accel.cost import area, energy
    from accel.timing.report import summary

    total = sum(t.total for t in tls)
    path = dict.fromkeys(BOUNDS, 0)
    for t in tls:
        for k, v in summary(t)["critical_path_cycles"].items():
            path[k] += v
    top = max(path, key=lambda k: path[k]) if total else "sync"
    macs = sum(t.macs for t in tls)
    a, e = area(config), energy(tls, config)
    rec = {"cycles": total, "bound": BOUNDS[top].split(" ")[0], "pe_utilization":
           macs / (config.pe_rows * config.pe_cols * total) if total else 0.0,
           "dram_bytes": int(sum(int(t.dram_bytes.sum()) for t in tls)), "macs": macs,
           "area_mm2": a["mm2"], "energy_uj": e["uj"]}
    rec.update({f"area_{k}_mm2": v for k, v in a["components_mm2"].items()})
    rec.update({f"energy_{k}_uj": v for k, v in e["components_uj"].items()})
    return rec


HOST_FIELDS = ("seconds", "compile_seconds", "run_seconds", "lowering_reused")  # the host's, not the point's


def comparable(rec: dict[str, Any]) -> dict[str, Any]:
    """A record without its host fields (HOST_FIELDS: timings, and whether this worker happened to keep
    the point's lowering), so records of two pools or two runs compare equal exactly when the points'
    results do."""
    return {k: v for k, v in rec.items() if k not in HOST_FIELDS}


def run_point(model: Model | str, base: dict[str, int], params: dict[str, int],
              cost_model_only: bool) -> dict[str, Any]:
    """One point: its record, with `error` set (and no figures) when it fails; it never raises for a
    point's own failure (a bad config, a model the compiler rejects, a deadlock)."""
    model = _WORKER_MODELS[model] if isinstance(model, str) else model
    rec: dict[str, Any] = {"model": model.label, **params, "error": ""}
    start = time.perf_counter()
    try:
        config = CoreConfig(**base, **params)
        tls, compile_s, run_s, reused = _timelines(model, config, cost_model_only)
        rec.update(measure(tls, config))
        rec.update(compile_seconds=compile_s, run_seconds=run_s, lowering_reused=reused)
    except Exception as e:  # noqa: BLE001 - a point's failure is data: recorded, and the sweep goes on
        rec["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    rec["seconds"] = time.perf_counter() - start
    return rec


_WORKER_MODELS: dict[str, Model] = {}


def _init_worker(models: dict[str, Model]) -> None:
    """A pool worker's models, sent once per worker rather than once per point."""
    _WORKER_MODELS.update(models)


class Cache:
    """One JSON file per finished point in a folder, written atomically (a temporary file renamed over
    the final name), so concurrent writers and interrupted sweeps never leave half a result."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.folder / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None

    def put(self, key: str, rec: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key}.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(rec, f)
        os.replace(tmp, self.folder / f"{key}.json")


def _local(todo: list[tuple[str, Model, dict]], spec: Spec, workers: int) -> Iterator[tuple[str, dict]]:
    models = {m.digest: m for _, m, _ in todo}
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(models,)) as pool:
        futures = {pool.submit(run_point, m.digest, spec.base, params, spec.cost_model_only): key
                   for key, m, params in todo}
        try:
            for f in as_completed(futures):
                yield futures[f], f.result()
        finally:
            for f in futures:
                f.cancel()


def _dask(todo: list[tuple[str, Model, dict]], spec: Spec, scheduler: Any) -> Iterator[tuple[str, dict]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise RuntimeError("--scheduler needs Dask: pip install 'accel[sweep]' (dask and distributed)") from None
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler, timeout="10s")
    try:
        models = {m.digest: m for _, m, _ in todo}
        shared = client.scatter(models, broadcast=True)  # each model's bytes go to every worker once
        futures = {client.submit(run_point, shared[m.digest], spec.base, params, spec.cost_model_only,
                                 key=f"accel-sweep-{key}", pure=False): key for key, m, params in todo}
        for f in dask_completed(list(futures)):
            yield futures[f], f.result()
    finally:
        if client is not scheduler:
            client.close()


def run_sweep(spec: Spec, cache: str | Path | None = None, workers: int | None = None, scheduler: Any = None,
              progress: bool = True, on_result: Callable[[dict], None] | None = None) -> list[dict[str, Any]]:
    """Every point's record, in the spec's order (models, then configs). Points already in `cache` are
    not run again; `scheduler` (an address tcp://HOST:PORT or a distributed.Client) runs the rest on a
    Dask cluster, else a local pool of `workers` processes (default: the CPU count)."""
    resolved = {m: resolve(m) for m in spec.models}
    store = Cache(cache) if cache is not None else None
    keys, results, todo, queued = [], {}, [], set()
    for m, params in spec.points:
        model = resolved[m]
        key = point_key(model, {**spec.base, **params}, spec.cost_model_only)
        keys.append(key)
        hit = store.get(key) if store else None
        if hit is not None:
            results[key] = hit
        elif key not in queued:  # two spec points can be the same core (a field set to its default)
            queued.add(key)
            todo.append((key, model, params))
    # points that differ only in later CoreConfig fields (the timing constants come after the sizes)
    # run one after another, so a worker's kept lowering serves them (_compiled)
    todo.sort(key=lambda t: (t[1].digest, [{**_DEFAULTS, **spec.base, **t[2]}[f] for f in _DEFAULTS]))
    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="point", desc="sweep", file=sys.stderr, dynamic_ncols=True)
    stream = _dask(todo, spec, scheduler) if scheduler is not None else \
        _local(todo, spec, workers or os.cpu_count() or 1) if todo else iter(())
    try:
        for key, rec in stream:
            rec["key"] = key
            results[key] = rec
            if store:
                store.put(key, rec)
            if on_result:
                on_result(rec)
            if bar:
                bar.update(1)
    finally:
        if bar:
            bar.close()
    return [results[k] for k in keys]

"""The sweep spec (TOML): the models, the CoreConfig fields to vary, and how each point runs
(docs/sweep.md).

    [sweep]
    cost_model_only = true        # schedule the core segments' programs without values
    samples = 20                  # random points (needed by random fields; else a random subset of the grid)
    seed = 0

    [[models]]                    # a zoo network, an ONNX file or an accel program
    zoo = "resnet50"
    size = 32

    [core]                        # CoreConfig fields every point shares
    psum_banks = 8

    [vary]                        # CoreConfig fields to vary
    pe_rows = [32, 64, 128]                                   # a list
    sbuf_partition_bytes = {start = 65536, stop = 196608, step = 65536}   # a range, stop included
    dma_bytes_per_cycle = {start = 8, stop = 128, factor = 2}            # a geometric range
    dma_latency_cycles = {random = [16, 256]}                 # uniform integers, one per sample
    pe_cols = {choice = [32, 64, 128]}                        # one of these per sample
    psum_partitions = "pe_cols"                               # the same value as another varied field

Every mistake is a SpecError naming the file, the line, the field and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accel.config import _RANGES, CoreConfig

FIELDS = tuple(f.name for f in dataclasses.fields(CoreConfig))
MODEL_KINDS = ("zoo", "onnx", "program")
ZOO_FUNCTIONS = ("transformer_layer",)  # zoo builders besides the ImageNet networks (zoo.imagenet)
_SWEEP_KEYS = {"cost_model_only": bool, "samples": int, "seed": int}
_SECTIONS = ("sweep", "models", "core", "vary")


class SpecError(ValueError):
    """A sweep spec that cannot run: the message names the file, line and field."""


@dataclass(frozen=True)
class ModelSpec:
    """One model of the sweep: kind (zoo, onnx, program), what (a zoo name or a path) and the
    arguments (zoo builder arguments, or input_shapes of an ONNX file)."""

    kind: str
    what: str
    args: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in self.args if k != "input_shapes")
        name = Path(self.what).name if self.kind != "zoo" else self.what
        return f"{name}({extra})" if extra else name


@dataclass
class Spec:
    path: str
    models: list[ModelSpec]
    base: dict[str, int]
    vary: list[str]  # the varied fields, in the spec's order
    configs: list[dict[str, int]]  # each point's varied values
    cost_model_only: bool = False
    seed: int = 0
    points: list[tuple[ModelSpec, dict[str, int]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.points = [(m, c) for m in self.models for c in self.configs]


def _line(text: str, section: str, key: str | None = None) -> int | None:
    """The line of `key` in [section] (or of the section's header), for error messages."""
    current = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        head = re.match(r"\[\[?\s*([\w.-]+)\s*\]\]?", line)
        if head:
            current = head.group(1)
            if key is None and current == section:
                return n
            continue
        if current == section and key is not None and re.match(rf"{re.escape(key)}\s*=", line):
            return n
    return None


class _Where:
    """Error messages with the file and, where it is found, the line."""

    def __init__(self, path: str, text: str) -> None:
        self.path, self.text = path, text

    def error(self, section: str, key: str | None, message: str) -> SpecError:
        n = _line(self.text, section, key)
        at = f"{self.path}:{n}" if n else self.path
        what = f"[{section}] {key}" if key else f"[{section}]"
        return SpecError(f"{at}: {what}: {message}")


def _check_field(where: _Where, section: str, name: Any) -> str:
    if name not in FIELDS:
        near = difflib.get_close_matches(str(name), FIELDS, n=2)
        hint = f" (did you mean {' or '.join(near)}?)" if near else ""
        raise where.error(section, str(name), f"not a CoreConfig field{hint}; known: {', '.join(FIELDS)}")
    return name


def _check_value(where: _Where, section: str, name: str, v: Any) -> int:
    lo, hi = _RANGES[name]
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise where.error(section, name, f"{v!r}: allowed integers {lo}..{hi}")
    return v


def _axis(where: _Where, name: str, v: Any) -> tuple[str, list[int]]:
    """('grid', values) or ('random' | 'choice', bounds or choices) of one [vary] entry."""
    check = lambda x: _check_value(where, "vary", name, x)  # noqa: E731
    if isinstance(v, str):  # the same value as another varied field: pe_cols = "pe_rows" (square arrays)
        return "tie", [v]
    if isinstance(v, list):
        if not v:
            raise where.error("vary", name, "an empty list; give at least one value")
        return "grid", [check(x) for x in v]
    if not isinstance(v, dict):
        raise where.error("vary", name, f"{v!r}: expected a list, {{start, stop, step}}, {{start, stop, factor}}, "
                                        "{random = [lo, hi]} or {choice = [...]}")
    keys = set(v)
    if keys == {"random"}:
        r = v["random"]
        if not (isinstance(r, list) and len(r) == 2):
            raise where.error("vary", name, f"random = {r!r}: expected [lo, hi]")
        lo, hi = check(r[0]), check(r[1])
        if lo > hi:
            raise where.error("vary", name, f"random = [{lo}, {hi}]: lo must not exceed hi")
        return "random", [lo, hi]
    if keys == {"choice"}:
        c = v["choice"]
        if not (isinstance(c, list) and c):
            raise where.error("vary", name, f"choice = {c!r}: expected a non-empty list")
        return "choice", [check(x) for x in c]
    if keys in ({"start", "stop", "step"}, {"start", "stop", "factor"}, {"start", "stop"}):
        start, stop = check(v["start"]), check(v["stop"])
        if start > stop:
            raise where.error("vary", name, f"start {start} > stop {stop}")
        if "factor" in v:
            f = v["factor"]
            if not isinstance(f, int) or isinstance(f, bool) or f < 2:
                raise where.error("vary", name, f"factor = {f!r}: an integer >= 2")
            vals, x = [], start
            while x <= stop:
                vals.append(x)
                x *= f
            return "grid", vals
        step = v.get("step", 1)
        if not isinstance(step, int) or isinstance(step, bool) or step < 1:
            raise where.error("vary", name, f"step = {step!r}: an integer >= 1")
        return "grid", list(range(start, stop + 1, step))
    raise where.error("vary", name, f"keys {sorted(keys)}: expected {{start, stop[, step]}}, {{start, stop, factor}}, "
                                    "{random = [lo, hi]} or {choice = [...]}")


def _model(where: _Where, entry: Any, folder: Path, k: int) -> ModelSpec:
    if isinstance(entry, str):  # shorthand: a path by its suffix, else a zoo name
        kind = "onnx" if entry.lower().endswith(".onnx") else "program" if entry.endswith((".s", ".bin")) else "zoo"
        entry = {kind: entry}
    if not isinstance(entry, dict):
        raise where.error("models", None, f"model {k + 1}: {entry!r}: expected a table or a string")
    kinds = [x for x in MODEL_KINDS if x in entry]
    if len(kinds) != 1:
        raise where.error("models", None, f"model {k + 1}: give exactly one of {', '.join(MODEL_KINDS)} "
                                          f"(got {', '.join(kinds) or 'none'})")
    kind = kinds[0]
    what = entry[kind]
    args = {a: v for a, v in entry.items() if a != kind}
    if not isinstance(what, str):
        raise where.error("models", kind, f"{what!r}: expected a string")
    if kind == "zoo":
        from accel.compiler.zoo import ALIASES, IMAGENET

        names = (*IMAGENET, *ALIASES, *ZOO_FUNCTIONS)
        if what not in names:
            raise where.error("models", kind, f"{what!r}: not a zoo model; known: {', '.join(names)}")
    else:
        p = Path(what) if Path(what).is_absolute() else folder / what
        if not p.is_file():
            raise where.error("models", kind, f"{what}: no such file")
        what = str(p)
        if kind == "program" and args:
            raise where.error("models", kind, f"a program takes no arguments (got {', '.join(args)})")
        if kind == "onnx" and set(args) - {"input_shapes"}:
            raise where.error("models", kind, f"an ONNX model takes only input_shapes (got {', '.join(args)})")
    return ModelSpec(kind, what, tuple(sorted((a, _freeze(v)) for a, v in args.items())))


def _freeze(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v


def load_spec(path: str | Path) -> Spec:
    """Read and check a sweep spec; SpecError (one line) for anything wrong in it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise SpecError(f"{path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text (a sweep spec is UTF-8 TOML)") from None
    return parse_spec(text, str(path), p.parent)


def parse_spec(text: str, path: str = "<spec>", folder: Path | None = None) -> Spec:
    """A Spec from TOML text; `folder` resolves relative model paths (default: the current folder)."""
    folder = folder or Path(".")
    where = _Where(path, text)
    try:
        d = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: {e}") from None
    for key in d:
        if key not in _SECTIONS:
            near = difflib.get_close_matches(key, _SECTIONS, n=1)
            hint = f" (did you mean [{near[0]}]?)" if near else ""
            raise where.error(key, None, f"unknown section{hint}; a spec has [sweep], [[models]], [core], [vary]")
    sweep = d.get("sweep", {})
    for key, v in sweep.items():
        if key not in _SWEEP_KEYS:
            raise where.error("sweep", key, f"unknown key; known: {', '.join(_SWEEP_KEYS)}")
        if not isinstance(v, _SWEEP_KEYS[key]) or (_SWEEP_KEYS[key] is int and isinstance(v, bool)):
            raise where.error("sweep", key, f"{v!r}: expected {_SWEEP_KEYS[key].__name__}")
    samples = sweep.get("samples")
    if samples is not None and samples < 1:
        raise where.error("sweep", "samples", f"{samples}: at least 1")
    models_in = d.get("models")
    if not models_in:
        raise where.error("models", None, "no models: add [[models]] tables (zoo = ..., onnx = ... or program = ...)")
    if not isinstance(models_in, list):
        models_in = [models_in]
    models = [_model(where, m, folder, k) for k, m in enumerate(models_in)]
    base = {_check_field(where, "core", k): _check_value(where, "core", k, v) for k, v in d.get("core", {}).items()}
    axes = {_check_field(where, "vary", k): _axis(where, k, v) for k, v in d.get("vary", {}).items()}
    for k, (kind, vals) in axes.items():
        if kind == "tie" and (vals[0] not in axes or axes[vals[0]][0] == "tie"):
            raise where.error("vary", k, f"= {vals[0]!r}: a tie names another varied field that is not itself a tie "
                                         f"(varied: {', '.join(a for a in axes if axes[a][0] != 'tie') or 'none'})")
    both = set(base) & set(axes)
    if both:
        raise where.error("vary", sorted(both)[0], "also fixed in [core]; give it in one place")
    rng = np.random.default_rng(sweep.get("seed", 0))
    grid_names = [k for k, (kind, _) in axes.items() if kind == "grid"]
    grid = [dict(zip(grid_names, combo, strict=True))
            for combo in itertools.product(*(axes[k][1] for k in grid_names))]
    random_names = [k for k, (kind, _) in axes.items() if kind in ("random", "choice")]
    if random_names:
        if samples is None:
            raise where.error("vary", random_names[0], "a random field needs [sweep] samples = N")
        configs = []
        for g in grid:
            for _ in range(samples):
                c = dict(g)
                for k in random_names:
                    kind, vals = axes[k]
                    c[k] = int(rng.integers(vals[0], vals[1] + 1)) if kind == "random" else int(rng.choice(vals))
                configs.append(c)
    elif samples is not None and samples < len(grid):
        configs = [grid[i] for i in sorted(rng.choice(len(grid), size=samples, replace=False))]
    else:
        configs = grid
    order = list(axes)
    configs = [{k: c[axes[k][1][0]] if axes[k][0] == "tie" else c[k] for k in order} for c in configs]
    return Spec(path, models, base, order, configs, sweep.get("cost_model_only", False), sweep.get("seed", 0))

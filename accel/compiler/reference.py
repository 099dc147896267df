"""The oracles a compiled model is checked against, and the error measures that compare them.

* `run_onnxruntime`: ONNX Runtime, fp32, CPU, one thread: written by others, the primary oracle.
* `run_reference`: `onnx.reference.ReferenceEvaluator` (its LRN replaced by the spec's, models
  below opset 14 converted first: see below), the second oracle; with ``bf16=True`` it
  rounds every initializer, every input and every float32 tensor a node produces to bf16 (nearest
  even, `accel.model.fp`), as the core does when it stores a tensor: the bf16-aware reference.
* `compare`: max abs error, max error relative to max |want|, rms relative error and cosine
  similarity, per output.

Tolerance (bf16 compute, fp32 accumulation). bf16 keeps 8 significant bits, so rounding a value to
nearest has relative error at most u = 2^-8 (~3.9e-3) and, for values spread over many binades,
an rms relative error of about u/sqrt(3) (~2.3e-3, uniform rounding error). A layer of the core
reads bf16 operands (input and weights each rounded once: 2 roundings), sums the products exactly
in fp32 (error ~K * 2^-24, negligible beside u for K up to 10^4) and rounds its output once. A
layer scaled to preserve the norm of its input (as `accel.compiler.zoo` builds them) passes the
relative error it receives on unchanged in the rms sense and adds c ~ 2-3 fresh, independent
roundings. After L layers the rms relative error is therefore about sqrt(c * L) * u / sqrt(3): for
ResNet-50 (L ~ 50 + 16 residual adds) about 3% rms, for one transformer layer (~10 stored tensors
on the longest path) about 1%; the worst case (all errors aligned) grows like c * L * u and is no
useful bound. Softmax outputs and LayerNorm outputs keep their inputs' relative error. Hence:

* against fp32 (`run_onnxruntime`): cosine similarity >= 0.999 and rms relative error <= 0.05 for
  networks of ~50 layers (<= 0.02 for a transformer layer); max_rel is reported, not asserted
  (a few outputs near a ReLU kink or a rounding tie dominate it);
* against the bf16-aware reference (`run_reference(bf16=True)`): the compiled run rounds the same
  tensors at the same points; what differs is the fp32 summation order of tiled contractions, the
  activation unit's table approximations, and the roundings that fusion removes (BatchNorm folded
  into the conv weights, bias + activation applied before the one store of the PSUM drain). Each
  of those is at most one rounding (u), or a table error of that order, at one layer, and then
  propagates like any other rounding. For one layer or one fused op the difference is a few u
  per element (max_rel <= ~4 u = 1.6e-2 is a fair bound); for a deep network with F such points
  among its ~c * L roundings it is about sqrt(F / (c * L)) of the bf16-vs-fp32 error (expected,
  not yet measured: the compiler will measure it).

Measured (benchmarks/bench_zoo.py, seed 0, N(0, 1) inputs, bf16 reference vs fp32 ONNX Runtime
on the final output): rms_rel 0.26-0.50% and cosine >= 0.99999 for ResNet-50, AlexNet, SqueezeNet
and Inception-v1 at 224 x 224, and 0.54% for the BERT-base layer; max_rel 0.3-1.2%. The estimate
above is pessimistic by about 5x (errors of neighbouring layers partly cancel; ReLU, pooling,
Softmax and LayerNorm damp them), so the asserted bounds leave a wide margin for the core's own
approximations (the activation tables) without admitting a layout bug, which gives O(1) errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper, version_converter
from onnx.reference import ReferenceEvaluator
from onnx.reference.op_run import OpRun

from accel.model import fp

Arrays = dict[str, np.ndarray]
# onnx.reference (1.23) misreads two opset-9 operators: BatchNormalization-9 takes the schema's
# default momentum as a request for batch statistics, and Softmax before 13 works on the last axis
# alone. Older models are converted to opset 14 first (version_converter keeps their meaning).
_MIN_OPSET = 14


def _proto(model: onnx.ModelProto | str) -> onnx.ModelProto:
    return onnx.load(model) if isinstance(model, str) else model


def random_inputs(model: onnx.ModelProto, seed: int = 0) -> Arrays:
    """N(0, 1) float32 values for every graph input that is not an initializer (fixed shapes only)."""
    inits = {t.name for t in model.graph.initializer}
    rng = np.random.default_rng(seed)
    out = {}
    for v in model.graph.input:
        if v.name in inits:
            continue
        t = v.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        if None in shape:
            raise ValueError(f"input '{v.name}' has a dynamic shape {shape}: give its values")
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)
        if dtype.kind != "f":
            raise ValueError(f"input '{v.name}' is {dtype}: give its values")
        out[v.name] = rng.standard_normal(shape).astype(dtype)
    return out


def run_onnxruntime(model: onnx.ModelProto | str, inputs: Mapping[str, np.ndarray]) -> Arrays:
    """Outputs of `model` on ONNX Runtime's CPU provider with one thread, by output name."""
    import onnxruntime as ort  # a test dependency, imported only when the oracle is asked for

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    session = ort.InferenceSession(_proto(model).SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, dict(inputs)), strict=True))


def to_bf16(x: np.ndarray) -> np.ndarray:
    """A float32 array rounded to the nearest bf16 value (ties to even), as float32; other arrays
    (integers, booleans, float64 of shape computations) unchanged."""
    if not isinstance(x, np.ndarray) or x.dtype != np.float32:
        return x
    return fp.f32_value(fp.bf16_to_fp32(fp.fp32_to_bf16(fp.f32_bits(x)))).reshape(x.shape)


def run_reference(model: onnx.ModelProto | str, inputs: Mapping[str, np.ndarray], bf16: bool = False) -> Arrays:
    """Outputs of `model` from onnx.reference.ReferenceEvaluator, by output name.

    With `bf16`, every float32 initializer and input is rounded to bf16 before the run and every
    float32 tensor each node produces right after it (each node computes in float32 from bf16
    values, then its result is stored as bf16). Nodes inside subgraphs (If, Loop) are not rounded.
    """
    model = _proto(model)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), _MIN_OPSET)
    if opset < _MIN_OPSET:
        model = version_converter.convert_version(model, _MIN_OPSET)
    if bf16:
        rounded = onnx.ModelProto()
        rounded.CopyFrom(model)
        for t in rounded.graph.initializer:
            if t.data_type == onnx.TensorProto.FLOAT:
                t.CopyFrom(numpy_helper.from_array(to_bf16(numpy_helper.to_array(t)), t.name))
        model = rounded
        inputs = {k: to_bf16(np.asarray(v)) for k, v in inputs.items()}
    evaluator = ReferenceEvaluator(model, new_ops=[LRN])
    if bf16:
        for node in evaluator.rt_nodes_:
            node.run = _rounding(node.run)
    names = [o.name for o in model.graph.output]
    return dict(zip(names, evaluator.run(names, dict(inputs)), strict=True))


class LRN(OpRun):
    """LRN as the ONNX spec defines it, for run_reference (onnx.reference takes an override by its
    class name). onnx.reference 1.23's own loops over the batch instead of the channels (every
    channel from N on sees a square sum of 0), which the small alpha of the ImageNet models (1e-4)
    hides."""

    op_domain = ""

    def _run(self, x: np.ndarray, alpha: float = 1e-4, beta: float = 0.75, bias: float = 1.0,
             size: int = 1) -> tuple[np.ndarray]:
        square_sum = np.zeros(x.shape, np.float64)
        for c in range(x.shape[1]):
            lo, hi = max(0, c - (size - 1) // 2), min(x.shape[1], c + size - (size - 1) // 2)
            square_sum[:, c] = np.sum(x[:, lo:hi].astype(np.float64) ** 2, axis=1)
        return ((x / (bias + alpha / size * square_sum) ** beta).astype(x.dtype),)


def _rounding(run: Callable[..., Sequence[Any]]) -> Callable[..., tuple[Any, ...]]:
    """An onnx.reference OpRun.run that rounds each float32 result to bf16."""
    def rounded(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
        return tuple(to_bf16(o) for o in run(*args, **kwargs))
    return rounded


def compare(got: Mapping[str, np.ndarray], want: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Error measures of `got` against `want`, per output of `want`:

    max_abs: max |got - want|; max_rel: max_abs / max |want| (relative to the output's scale, so
    values near 0 do not blow it up); rms_rel: ||got - want|| / ||want||; cosine: the cosine
    similarity of the flattened outputs (1.0 when both are all zero). NaN against NaN and equal
    infinities count as equal; any other NaN or infinity gives an infinite error.
    """
    out = {}
    for name, w in want.items():
        if name not in got:
            raise ValueError(f"output '{name}' missing: got {sorted(got)}")
        g = np.asarray(got[name], np.float64)
        w = np.asarray(w, np.float64)
        if g.shape != w.shape:
            raise ValueError(f"output '{name}': shape {list(g.shape)}, want {list(w.shape)}")
        same = (g == w) | (np.isnan(g) & np.isnan(w))
        finite = np.isfinite(g) & np.isfinite(w)
        with np.errstate(invalid="ignore"):
            diff = np.where(same, 0.0, np.where(finite, np.abs(g - w), np.inf))
        gz, wz = np.where(finite, g, 0.0), np.where(finite, w, 0.0)
        max_abs = float(diff.max(initial=0.0))
        scale = float(np.abs(wz).max(initial=0.0))
        norm_w, norm_g = float(np.linalg.norm(wz)), float(np.linalg.norm(gz))
        rms = float(np.sqrt(np.sum(diff * diff)))
        out[name] = {
            "max_abs": max_abs,
            "max_rel": max_abs / scale if scale else (0.0 if max_abs == 0 else np.inf),
            "rms_rel": rms / norm_w if norm_w else (0.0 if rms == 0 else np.inf),
            "cosine": float(np.dot(gz.ravel(), wz.ravel()) / (norm_g * norm_w)) if norm_g and norm_w
            else float(norm_g == norm_w),
        }
    return out

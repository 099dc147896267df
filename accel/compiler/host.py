"""NumPy implementations of ONNX operators for the host fallback: what the core cannot run (LRN,
MaxPool indices, ...) and the layout, shape and element-wise operators as a safety net.

The compiler places a node on the core when it can lower it, else on the host when HOST_OPS has
its op type, else on onnx.reference. ``HOST_OPS[op](attrs, inputs) -> outputs``: `attrs` as
`attributes(node, opset)` gives them (strings decoded, tensors as arrays, plus ``"_opset"``, the
model's default-domain opset, for the operators whose meaning changed across versions); `inputs`
in the node's order, an omitted optional input as None. The list returned holds every output the
operator defines, in order; a node that names fewer takes the first ones. Each operator is checked
against ONNX Runtime over its attributes in tests/compiler/test_host.py.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

Attrs = dict[str, Any]
HostOp = Callable[[Attrs, list[Any]], list[np.ndarray]]
HOST_OPS: dict[str, HostOp] = {}
LATEST_OPSET = onnx.defs.onnx_opset_version()


def attributes(node: onnx.NodeProto, opset: int | None = None) -> Attrs:
    """A node's attributes by name as HOST_OPS takes them, with "_opset" when `opset` is given."""
    out: Attrs = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, onnx.TensorProto):
            v = numpy_helper.to_array(v)
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [s.decode() for s in v]
        out[a.name] = v
    if opset is not None:
        out["_opset"] = opset
    return out


def _op(*names: str) -> Callable[[HostOp], HostOp]:
    def register(f: HostOp) -> HostOp:
        for n in names:
            HOST_OPS[n] = f
        return f
    return register


def _axes(attrs: Attrs, inputs: list[Any], slot: int) -> list[int] | None:
    """Axes given as an attribute (older opsets) or as input `slot` (newer ones)."""
    if len(inputs) > slot and inputs[slot] is not None:
        return [int(a) for a in np.asarray(inputs[slot]).ravel()]
    return list(attrs["axes"]) if "axes" in attrs else None


# ---------------------------------------------------------------------------------------------
# Layout and shape
# ---------------------------------------------------------------------------------------------


@_op("Identity")
def identity(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    return [np.array(inputs[0])]


@_op("Reshape")
def reshape(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    x, shape = np.asarray(inputs[0]), [int(d) for d in np.asarray(inputs[1])]
    if not attrs.get("allowzero", 0):
        shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return [x.reshape(shape)]


@_op("Flatten")
def flatten(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    x = np.asarray(inputs[0])
    axis = attrs.get("axis", 1)
    axis = axis + x.ndim if axis < 0 else axis
    return [x.reshape(math.prod(x.shape[:axis]), math.prod(x.shape[axis:]))]


@_op("Transpose")
def transpose(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    x = np.asarray(inputs[0])
    return [np.ascontiguousarray(np.transpose(x, attrs.get("perm", list(range(x.ndim))[::-1])))]


@_op("Squeeze")
def squeeze(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    x = np.asarray(inputs[0])
    axes = _axes(attrs, inputs, 1)
    return [np.squeeze(x, tuple(a % x.ndim for a in axes)) if axes else np.squeeze(x)]


@_op("Unsqueeze")
def unsqueeze(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    x = np.asarray(inputs[0])
    axes = _axes(attrs, inputs, 1) or []
    rank = x.ndim + len(axes)
    return [np.expand_dims(x, tuple(sorted(a % rank for a in axes)))]


@_op("Concat")
def concat(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    return [np.concatenate([np.asarray(x) for x in inputs], axis=attrs["axis"])]


@_op("Constant")
def constant(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32), ("value_int", np.int64),
                       ("value_ints", np.int64), ("value_string", object), ("value_strings", object)):
        if key in attrs:
            return [np.array(attrs[key], dtype)]
    if "value" in attrs:
        return [np.array(attrs["value"])]
    raise ValueError(f"Constant: no value attribute the host can read (has {sorted(attrs)})")


@_op("ConstantOfShape")
def constant_of_shape(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    value = np.asarray(attrs.get("value", np.zeros(1, np.float32)))
    return [np.full([int(d) for d in np.asarray(inputs[0])], value.ravel()[0], value.dtype)]


@_op("Shape")
def shape(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    dims = np.asarray(inputs[0]).shape
    return [np.array(dims[slice(attrs.get("start", 0), attrs.get("end"))], np.int64)]


@_op("Gather")
def gather(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    data, idx = np.asarray(inputs[0]), np.asarray(inputs[1]).astype(np.int64)
    axis = attrs.get("axis", 0) % data.ndim
    n = data.shape[axis]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise ValueError(f"Gather: index out of range -{n}..{n - 1} on axis {axis}")
    return [np.take(data, np.where(idx < 0, idx + n, idx), axis=axis)]


@_op("Cast")
def cast(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    return [np.asarray(inputs[0]).astype(helper.tensor_dtype_to_np_dtype(attrs["to"]))]


@_op("Dropout")
def dropout(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    """Inference: the input and an all-true mask (bool from opset 10, the input's type before).
    Training-mode dropout runs on the core, whose
    hardware RNG defines the mask; the host refuses it rather than drawing another one."""
    x = np.asarray(inputs[0])
    ratio = float(inputs[1]) if len(inputs) > 1 and inputs[1] is not None else attrs.get("ratio", 0.5)
    training = len(inputs) > 2 and inputs[2] is not None and bool(inputs[2])
    if training and ratio > 0:
        raise ValueError("Dropout in training mode: the mask comes from the core's RNG, not the host")
    return [x.copy(), np.ones(x.shape, bool if attrs.get("_opset", LATEST_OPSET) >= 10 else x.dtype)]


# ---------------------------------------------------------------------------------------------
# Element-wise, with numpy broadcasting
# ---------------------------------------------------------------------------------------------


def _same_dtype(f: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    @functools.wraps(f)
    def g(*xs: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(f(*xs)).astype(np.result_type(*xs), copy=False)
    return g


def _int_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer division truncated towards zero (C semantics, as ONNX Runtime does)."""
    q = a // b
    return q + ((q < 0) & (q * b != a))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _erf(x: np.ndarray) -> np.ndarray:
    """erf in double precision element by element (math.erf), rounded to the input's type."""
    x = np.asarray(x)
    return np.frompyfunc(math.erf, 1, 1)(x.astype(np.float64)).astype(np.float64).astype(x.dtype)


def _gelu(x: np.ndarray, approximate: str) -> np.ndarray:
    x64 = x.astype(np.float64)
    if approximate == "tanh":
        y = 0.5 * x64 * (1 + np.tanh(math.sqrt(2 / math.pi) * (x64 + 0.044715 * x64 ** 3)))
    else:
        y = 0.5 * x64 * (1 + _erf(x64 / math.sqrt(2)))
    return y.astype(x.dtype)


_BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Pow": np.power,
    "Div": lambda a, b: _int_div(a, b) if a.dtype.kind in "iu" else np.divide(a, b),
}
_VARIADIC: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "Sum": np.add, "Max": np.maximum, "Min": np.minimum, "Mean": np.add,
}
_UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Relu": lambda x: np.maximum(x, 0), "Sigmoid": _sigmoid, "Tanh": np.tanh, "Exp": np.exp, "Log": np.log,
    "Sqrt": np.sqrt, "Reciprocal": lambda x: 1 / x, "Neg": np.negative, "Abs": np.abs, "Erf": _erf,
}


def _binary(name: str) -> HostOp:
    f = _same_dtype(_BINARY[name])

    def run(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
        a, b = (np.asarray(x) for x in inputs)
        return [f(a, b) if name != "Pow" else _same_dtype(np.power)(a, b.astype(a.dtype))]
    return run


def _variadic(name: str) -> HostOp:
    f = _VARIADIC[name]

    def run(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
        xs = [np.asarray(x) for x in inputs]
        y = functools.reduce(_same_dtype(f), xs)
        return [_same_dtype(np.divide)(y, np.asarray(len(xs), y.dtype)) if name == "Mean" else y]
    return run


def _unary(name: str) -> HostOp:
    f = _same_dtype(_UNARY[name])
    return lambda attrs, inputs: [f(np.asarray(inputs[0]))]


for _name in _BINARY:
    HOST_OPS[_name] = _binary(_name)
for _name in _VARIADIC:
    HOST_OPS[_name] = _variadic(_name)
for _name in _UNARY:
    HOST_OPS[_name] = _unary(_name)


@_op("Gelu")
def gelu(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    return [_gelu(np.asarray(inputs[0]), attrs.get("approximate", "none"))]


@_op("LeakyRelu")
def leaky_relu(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    x = np.asarray(inputs[0])
    return [np.where(x < 0, x * x.dtype.type(attrs.get("alpha", 0.01)), x)]


@_op("Clip")
def clip(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    """Bounds as attributes (opset < 11) or as optional inputs (11 on); a missing one is open."""
    x = np.asarray(inputs[0])
    lo = inputs[1] if len(inputs) > 1 and inputs[1] is not None else attrs.get("min")
    hi = inputs[2] if len(inputs) > 2 and inputs[2] is not None else attrs.get("max")
    y = x if lo is None else np.maximum(x, np.asarray(lo, x.dtype))
    return [y if hi is None else np.minimum(y, np.asarray(hi, x.dtype))]


# ---------------------------------------------------------------------------------------------
# Normalisations
# ---------------------------------------------------------------------------------------------


def _softmax_axes(attrs: Attrs, x: np.ndarray) -> tuple[int, ...]:
    """The axes softmax normalises over: before opset 13 the input is flattened to 2-D at `axis`
    (default 1), so every axis from it on; from 13 the one `axis` (default -1)."""
    if attrs.get("_opset", LATEST_OPSET) < 13:
        return tuple(range(attrs.get("axis", 1) % max(x.ndim, 1), x.ndim))
    return (attrs.get("axis", -1) % x.ndim,)


@_op("Softmax")
def softmax(attrs: Attrs, inputs: list[Any], log: bool = False) -> list[np.ndarray]:
    x = np.asarray(inputs[0])
    axes = _softmax_axes(attrs, x)
    z = x - np.max(x, axis=axes, keepdims=True)
    with np.errstate(divide="ignore"):
        s = np.sum(np.exp(z), axis=axes, keepdims=True)
        return [(z - np.log(s) if log else np.exp(z) / s).astype(x.dtype)]


HOST_OPS["LogSoftmax"] = functools.partial(softmax, log=True)


@_op("LayerNormalization")
def layer_normalization(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    """Y, Mean, InvStdDev over the axes from `axis` on, computed in float32 (stash_type 1)."""
    x = np.asarray(inputs[0])
    axes = tuple(range(attrs.get("axis", -1) % x.ndim, x.ndim))
    xs = x.astype(np.float32)
    mean = np.mean(xs, axis=axes, keepdims=True)
    d = xs - mean
    inv = (1 / np.sqrt(np.mean(d * d, axis=axes, keepdims=True) + np.float32(attrs.get("epsilon", 1e-5))))
    y = d * inv * np.asarray(inputs[1], np.float32)
    if len(inputs) > 2 and inputs[2] is not None:
        y = y + np.asarray(inputs[2], np.float32)
    return [y.astype(x.dtype), mean.astype(np.float32), inv.astype(np.float32)]


@_op("BatchNormalization")
def batch_normalization(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    """Inference with the running statistics; with training_mode=1 (opset 14 on) the batch
    statistics, and the updated running mean and variance as outputs 2 and 3."""
    x, scale, bias, mean, var = (np.asarray(v) for v in inputs[:5])
    eps = x.dtype.type(attrs.get("epsilon", 1e-5))
    chan = (1, -1) + (1,) * (x.ndim - 2)
    if not attrs.get("training_mode", 0):
        y = (x - mean.reshape(chan)) / np.sqrt(var.reshape(chan) + eps) * scale.reshape(chan) + bias.reshape(chan)
        return [y.astype(x.dtype)]
    axes = (0,) + tuple(range(2, x.ndim))
    bmean, bvar = x.mean(axis=axes), x.var(axis=axes)
    m = x.dtype.type(attrs.get("momentum", 0.9))
    y = (x - bmean.reshape(chan)) / np.sqrt(bvar.reshape(chan) + eps) * scale.reshape(chan) + bias.reshape(chan)
    return [y.astype(x.dtype), (mean * m + bmean * (1 - m)).astype(x.dtype), (var * m + bvar * (1 - m)).astype(x.dtype)]


@_op("LRN")
def lrn(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    """x / (bias + alpha/size * sum of x^2 over the `size` channels around each one)^beta."""
    x = np.asarray(inputs[0])
    size = attrs["size"]
    lo, hi = (size - 1) // 2, (size - 1) - (size - 1) // 2
    sq = np.pad(x.astype(np.float32) ** 2, [(0, 0), (lo, hi)] + [(0, 0)] * (x.ndim - 2))
    total = sum(sq[:, k:k + x.shape[1]] for k in range(size))
    den = (np.float32(attrs.get("bias", 1.0)) + np.float32(attrs.get("alpha", 1e-4) / size) * total)
    return [(x / den ** np.float32(attrs.get("beta", 0.75))).astype(x.dtype)]


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------


def _pool_geometry(x: np.ndarray, attrs: Attrs) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """(kernel, strides, dilations, pads [begin..., end...], output size) of a pool over `x`:
    auto_pad SAME_UPPER/SAME_LOWER give ceil(in / stride) outputs with the padding split (the odd
    one at the end / the beginning), VALID no padding; with ceil_mode the output size rounds up,
    but a window that would start in the end padding is dropped."""
    rank = x.ndim - 2
    k = list(attrs["kernel_shape"])
    s = list(attrs.get("strides", [1] * rank))
    d = list(attrs.get("dilations", [1] * rank))
    pads = list(attrs.get("pads", [0] * 2 * rank))
    auto = attrs.get("auto_pad", "NOTSET")
    ceil = attrs.get("ceil_mode", 0)
    out = []
    for i in range(rank):
        n, ek = x.shape[2 + i], (k[i] - 1) * d[i] + 1
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            o = -(-n // s[i])
            total = max((o - 1) * s[i] + ek - n, 0)
            pads[i] = total // 2 if auto == "SAME_UPPER" else total - total // 2
            pads[i + rank] = total - pads[i]
        else:
            if auto == "VALID":
                pads[i] = pads[i + rank] = 0
            span = n + pads[i] + pads[i + rank] - ek
            if span < 0:
                raise ValueError(f"pool window {ek} larger than the padded input {span + ek} on axis {2 + i}")
            o = (-(-span // s[i]) if ceil else span // s[i]) + 1
            if ceil and (o - 1) * s[i] >= n + pads[i]:
                o -= 1
        out.append(o)
    return k, s, d, pads, out


def _grid(masks: list[np.ndarray]) -> np.ndarray:
    """The outer AND of one boolean vector per spatial axis (np.ix_ would read them as masks)."""
    rank = len(masks)
    return functools.reduce(np.logical_and, [m.reshape((1,) * i + (-1,) + (1,) * (rank - 1 - i))
                                             for i, m in enumerate(masks)])


def _windows(x: np.ndarray, attrs: Attrs, fill: float):  # noqa: ANN202 - a generator of 4-tuples
    """Yield (values, input coordinates, inside-input mask, inside-explicit-padding mask) for every
    kernel offset: arrays of the output's shape holding what that offset of each window sees."""
    k, s, d, pads, out = _pool_geometry(x, attrs)
    rank, dims = x.ndim - 2, x.shape[2:]
    before, end = pads[:rank], pads[rank:]
    after = [max((o - 1) * st + (kk - 1) * dd + 1 - n - b, 0)
             for o, st, kk, dd, n, b in zip(out, s, k, d, dims, before, strict=True)]
    xp = np.pad(x, [(0, 0), (0, 0)] + list(zip(before, after, strict=True)), constant_values=fill)
    axes = list(zip(out, s, d, before, end, dims, strict=True))
    for offset in itertools.product(*(range(kk) for kk in k)):
        sl = tuple(slice(j * dd, j * dd + (o - 1) * st + 1, st)
                   for j, (o, st, dd, *_) in zip(offset, axes, strict=True))
        coords = [np.arange(o) * st - b + j * dd for j, (o, st, dd, b, *_) in zip(offset, axes, strict=True)]
        inside = _grid([(c >= 0) & (c < n) for c, n in zip(coords, dims, strict=True)])
        padded = _grid([(c >= -b) & (c < n + e) for c, (*_, b, e, n) in zip(coords, axes, strict=True)])
        yield xp[(slice(None), slice(None)) + sl], coords, inside, padded


@_op("MaxPool")
def max_pool(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    """Values and Indices (flat positions in the input; storage_order 1 numbers each image's
    spatial positions column-major). The first maximum in window order wins ties."""
    x = np.asarray(inputs[0])
    best = idx = None
    spatial = x.shape[2:]
    plane = math.prod(spatial)
    strides = [math.prod(spatial[i + 1:]) for i in range(len(spatial))]
    if attrs.get("storage_order", 0):
        strides = [math.prod(spatial[:i]) for i in range(len(spatial))]
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    for values, coords, _, _ in _windows(x, attrs, fill):
        flat = sum(np.ix_(*[np.clip(c, 0, n - 1) * st for c, n, st in zip(coords, spatial, strides, strict=True)]))
        if best is None:
            best, idx = values.copy(), np.broadcast_to(flat, values.shape).copy()
        else:
            take = values > best
            best = np.where(take, values, best)
            idx = np.where(take, flat, idx)
    base = (np.arange(x.shape[0] * x.shape[1]) * plane).reshape(x.shape[:2] + (1,) * len(spatial))
    return [best.astype(x.dtype), (idx + base).astype(np.int64)]


@_op("AveragePool")
def average_pool(attrs: Attrs, inputs: list[Any]) -> list[np.ndarray]:
    """Mean over each window: of its input elements (count_include_pad 0) or of its elements
    inside the explicit padding (count_include_pad 1; ceil_mode's extra end region never counts)."""
    x = np.asarray(inputs[0])
    include = attrs.get("count_include_pad", 0)
    total = count = 0
    for values, _, inside, padded in _windows(x, attrs, 0.0):
        total = total + values.astype(np.float64)
        count = count + (padded if include else inside)
    return [(total / count).astype(x.dtype)]


@_op("GlobalAveragePool")
def global_pool(attrs: Attrs, inputs: list[Any], op: Callable[..., np.ndarray] = np.mean) -> list[np.ndarray]:
    x = np.asarray(inputs[0])
    return [op(x, axis=tuple(range(2, x.ndim)), keepdims=True).astype(x.dtype)]


HOST_OPS["GlobalMaxPool"] = functools.partial(global_pool, op=np.max)


def run_node(node: onnx.NodeProto, inputs: Sequence[Any], opset: int = LATEST_OPSET) -> list[np.ndarray]:
    """Run one node on the host: its outputs, as many as the node names."""
    if node.op_type not in HOST_OPS or node.domain not in ("", "ai.onnx"):
        raise ValueError(f"node '{node.name or node.output[0]}': the host has no {node.op_type}")
    return HOST_OPS[node.op_type](attributes(node, opset), list(inputs))[:len(node.output)]

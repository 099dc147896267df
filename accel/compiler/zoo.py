"""Models for the compiler's tests, benchmarks and notebooks: the ImageNet networks the onnx wheel
ships, with random weights and an optional reduced input size, and a transformer encoder layer.

The wheel's models (``onnx/backend/test/data/light/``, opset 9) give every weight as a
ConstantOfShape fill, which makes every channel identical and hides layout bugs. ``imagenet``
replaces each weight by seeded random values of the same shape, stored as initializers. Their
scales follow the mean and variance of every activation, propagated through the graph in closed
form (elements taken as independent Gaussians; the image is N(0, 1); ReLU, max and average pools,
sums and concatenations have exact rules for that model): a Conv/Gemm/MatMul weight gets
variance 1 / (fan_in * E[x^2]) of its input, so each layer's output has unit variance (He
initialisation when the input is the ReLU of a unit-variance tensor), and a BatchNormalization
gets running statistics that match its input's (scale U(0.7, 1.3), shift, mean offset and biases
N(0, 0.1)), so residual sums and 50-layer chains neither vanish nor explode and the logits stay
O(1). At a reduced size every shape after the input follows: a fixed Reshape target is
recomputed, a pool that covers its whole input at 224 still does, and the Gemm after a flatten
gets a weight of the new width.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LIGHT_DIR = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
ALIASES = {"alexnet": "bvlc_alexnet"}
IMAGENET = ("resnet50", "vgg19", "bvlc_alexnet", "squeezenet", "inception_v1", "inception_v2", "densenet121",
            "shufflenet", "zfnet512")
# The smallest input size each network allows (one pixel less makes a pooling or convolution window
# larger than its padded input; ResNet-50 and ShuffleNet pad every window, so at 1 every map is
# 1 x 1). Inception-v2 also needs a size in 32k-1 .. 32k+6 (its stride-2 branches must concatenate).
# tests/compiler/test_zoo.py checks both sides of each.
MIN_SIZE = {"resnet50": 1, "vgg19": 32, "bvlc_alexnet": 51, "squeezenet": 31, "inception_v1": 61,
            "inception_v2": 31, "densenet121": 29, "shufflenet": 1, "zfnet512": 59}

_SHAPE_OPS = {"Unsqueeze", "Reshape", "Flatten", "Squeeze", "Identity"}
_BIAS_STD = 0.1  # std of biases, BN shifts and means (relative to unit activations)


@dataclass
class _Net:
    """A wheel model taken apart: the graph without its weight fills, and the weights' shapes."""

    name: str
    model: onnx.ModelProto
    data: str                          # name of the image input
    weights: dict[str, list[int]]      # weight name -> shape (to be filled with random values)
    consts: dict[str, np.ndarray]      # int initializers kept as they are (Reshape targets)


def _load(name: str) -> _Net:
    model = onnx.load(str(LIGHT_DIR / f"light_{name}.onnx"))
    g = model.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    weights, nodes = {}, []
    for n in g.node:
        if n.op_type == "ConstantOfShape" and n.input[0] in inits:
            weights[n.output[0]] = [int(d) for d in inits[n.input[0]]]
        else:
            nodes.append(n)
    used = {i for n in nodes for i in n.input}
    weights.update({k: list(v.shape) for k, v in inits.items() if v.dtype.kind == "f" and k in used})
    consts = {k: v for k, v in inits.items() if v.dtype.kind != "f" and k in used}
    data = [i.name for i in g.input if i.name not in inits and i.name not in weights]
    if len(data) != 1:
        raise ValueError(f"{name}: expected one image input, found {data}")
    del g.node[:]
    g.node.extend(nodes)
    return _Net(name, model, data[0], {k: v for k, v in weights.items() if k in used}, consts)


def _skeleton(net: _Net, size: int) -> onnx.ModelProto:
    """The graph with the image input at `size` and the weights as shaped inputs without data
    (enough for shape inference, and cheap at any size)."""
    g = net.model.graph
    inputs = [helper.make_tensor_value_info(net.data, TensorProto.FLOAT, [1, 3, size, size])]
    inputs += [helper.make_tensor_value_info(k, TensorProto.FLOAT, s) for k, s in net.weights.items()]
    outputs = [helper.make_tensor_value_info(o.name, o.type.tensor_type.elem_type, None) for o in g.output]
    used = {i for n in g.node for i in n.input}
    graph = helper.make_graph(list(g.node), g.name, inputs, outputs,
                              [numpy_helper.from_array(v, k) for k, v in net.consts.items() if k in used])
    return helper.make_model(graph, opset_imports=list(net.model.opset_import), ir_version=max(net.model.ir_version, 4))


def _shapes(model: onnx.ModelProto, strict: bool = False) -> dict[str, list[int]]:
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=strict)
    g = inferred.graph
    out = {}
    for v in list(g.value_info) + list(g.input) + list(g.output):
        t = v.type.tensor_type
        if t.HasField("shape"):
            out[v.name] = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
    return out


def _groups(src: list[int], dst: list[int]) -> list[tuple[range, range]]:
    """Cut a reshape from `src` to `dst` (same element count) into the shortest runs of dims
    whose products agree: (src dims, dst dims) pairs."""
    out, i, j = [], 0, 0
    while i < len(src) or j < len(dst):
        i0, j0, ps, pd = i, j, 1, 1
        if i < len(src):
            ps, i = src[i], i + 1
        if j < len(dst):
            pd, j = dst[j], j + 1
        while ps != pd:
            if ps < pd:
                ps, i = ps * src[i], i + 1
            else:
                pd, j = pd * dst[j], j + 1
        out.append((range(i0, i), range(j0, j)))
    return out


def _reshape_target(node: onnx.NodeProto, old_in: list[int], target: np.ndarray, new_in: list[int]) -> list[int]:
    """The Reshape target that does at `new_in` what `target` did at `old_in`: a run of merged
    dims becomes the product of the new dims; a run split into several dims must be unchanged."""
    t = [old_in[k] if d == 0 else int(d) for k, d in enumerate(target)]
    if -1 in t:
        t[t.index(-1)] = math.prod(old_in) // -math.prod(t)
    new = []
    for src, dst in _groups(old_in, t):
        old_dims, new_dims = [old_in[k] for k in src], [new_in[k] for k in src]
        if old_dims == new_dims:
            new += [t[k] for k in dst]
        elif len(dst) == 1:
            new.append(math.prod(new_dims))
        else:
            raise ValueError(f"Reshape '{node.output[0]}': cannot carry a split of dims {old_dims} to {new_dims}")
    return new


def _adapt(net: _Net, size: int) -> onnx.ModelProto:
    """Make every shape after the image input consistent at `size`: recompute fixed Reshape
    targets, resize pools that are global at 224 (kernel = their input), give Gemm/MatMul weights
    the new contraction size. Returns the final skeleton."""
    base = _shapes(_skeleton(net, 224), strict=True)
    if size == 224:
        return _skeleton(net, size)
    for node in net.model.graph.node:
        if node.op_type not in {"Reshape", "AveragePool", "MaxPool", "Gemm", "MatMul"}:
            continue
        shape = _shapes(_skeleton(net, size)).get(node.input[0])
        if shape is None or min(shape) <= 0:
            continue
        old = base[node.input[0]]
        if node.op_type == "Reshape" and shape != old and node.input[1] in net.consts:
            target = _reshape_target(node, old, net.consts[node.input[1]], shape)
            name = f"{node.output[0]}__shape"
            net.consts[name] = np.array(target, np.int64)
            node.input[1] = name
        elif node.op_type in {"AveragePool", "MaxPool"}:
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            rank = len(old) - 2
            pads = list(attrs.get("pads", [0] * 2 * rank))
            span = [pads[d] + pads[d + rank] for d in range(rank)]
            if list(attrs["kernel_shape"]) == [o + p for o, p in zip(old[2:], span, strict=True)]:
                for a in node.attribute:  # a window over the whole (padded) input at 224 stays one
                    if a.name == "kernel_shape":
                        a.ints[:] = [n + p for n, p in zip(shape[2:], span, strict=True)]
        elif node.op_type in {"Gemm", "MatMul"} and node.input[1] in net.weights:
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            k = shape[0 if attrs.get("transA", 0) else -1]
            w = net.weights[node.input[1]]
            w[-1 if node.op_type == "Gemm" and attrs.get("transB", 0) else -2] = k
    return _skeleton(net, size)


def _window_misfit(node: onnx.NodeProto, x: list[int], w: list[int]) -> str:
    """Why a Conv/pool window does not fit its padded input ('' when it does): shape inference
    rounds the output size towards zero and so accepts a window one step too large."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if attrs.get("auto_pad", b"NOTSET") not in {b"NOTSET", b"VALID"}:
        return ""
    rank = len(x) - 2
    kernel = attrs.get("kernel_shape", w[2:])
    pads = attrs.get("pads", [0] * 2 * rank)
    dil = attrs.get("dilations", [1] * rank)
    for d in range(rank):
        span = x[2 + d] + pads[d] + pads[d + rank]
        if (kernel[d] - 1) * dil[d] + 1 > span:
            return f"window {kernel[d]} (dilation {dil[d]}) larger than the padded input {span} on axis {2 + d}"
    return ""


def _check_size(net: _Net, skel: onnx.ModelProto, size: int) -> dict[str, list[int]]:
    """Shapes of every tensor; a ValueError naming the first node whose output would be empty."""
    try:
        shapes = _shapes(skel, strict=True)
    except onnx.shape_inference.InferenceError as e:
        raise ValueError(f"{net.name} at size {size}: {str(e).splitlines()[0]} "
                         f"(the smallest size is {MIN_SIZE[net.name]})") from None
    used = {i for n in skel.graph.node for i in n.input} | {o.name for o in skel.graph.output}
    for node in skel.graph.node:
        if node.op_type in {"Conv", "MaxPool", "AveragePool"}:
            window = _window_misfit(node, shapes[node.input[0]], shapes.get(node.input[1], []) if
                                    node.op_type == "Conv" else [])
            if window:
                raise ValueError(f"{net.name} at size {size}: {node.op_type} '{node.output[0]}': {window} "
                                 f"(the smallest size is {MIN_SIZE[net.name]})")
        for o in node.output:
            if o in used and (o not in shapes or min(shapes[o], default=1) <= 0):
                raise ValueError(f"{net.name} at size {size}: {node.op_type} '{o}' would have shape "
                                 f"{shapes.get(o)} (the smallest size is {MIN_SIZE[net.name]})")
    return shapes


def _consumer(name: str, nodes: list[onnx.NodeProto]) -> tuple[onnx.NodeProto, int]:
    """The first node that uses a weight other than to reshape it, and the input slot it uses."""
    for n in nodes:
        for k, i in enumerate(n.input):
            if i == name:
                if n.op_type in _SHAPE_OPS and k == 0:
                    return _consumer(n.output[0], nodes)
                return n, k
    raise ValueError(f"weight {name} is not used")


def _phi(z: float) -> float:
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def _cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _relu(mean: float, var: float) -> tuple[float, float]:
    """Mean and variance of max(X, 0) for X ~ N(mean, var)."""
    sd = math.sqrt(var)
    z = mean / sd
    m1 = mean * _cdf(z) + sd * _phi(z)
    m2 = (mean * mean + var) * _cdf(z) + mean * sd * _phi(z)
    return m1, max(m2 - m1 * m1, 1e-6 * var)


@lru_cache
def _max_of(k: int) -> tuple[float, float]:
    """Mean and variance of the largest of k independent N(0, 1) values (midpoint rule)."""
    x = np.linspace(-8.0, 8.0, 4001)
    cdf = 0.5 * (1 + np.array([math.erf(v / math.sqrt(2)) for v in x]))
    pdf = k * np.exp(-x * x / 2) / math.sqrt(2 * math.pi) * cdf ** (k - 1)
    dx = x[1] - x[0]
    m1 = float(np.sum(x * pdf) * dx)
    return m1, float(np.sum(x * x * pdf) * dx) - m1 * m1


def _fill(net: _Net, shapes: dict[str, list[int]], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random weights, drawn in node order, scaled by the propagated (mean, variance) of every
    activation, treated as Gaussian with independent elements (the image input is N(0, 1))."""
    nodes = list(net.model.graph.node)
    stat = {net.data: (0.0, 1.0)}
    role = {k: _consumer(k, nodes) for k in net.weights}
    by_node: dict[str, dict[int, str]] = {}
    for k, (n, slot) in role.items():
        by_node.setdefault(n.output[0], {})[slot] = k
    out: dict[str, np.ndarray] = {}

    def normal(k: str, std: float, mean: float = 0.0) -> None:
        out[k] = rng.standard_normal(net.weights[k], np.float32) * np.float32(std) + np.float32(mean)

    def uniform(k: str, lo: float, hi: float) -> None:
        out[k] = rng.random(net.weights[k], np.float32) * np.float32(hi - lo) + np.float32(lo)

    for n in nodes:
        acts = [i for i in n.input if i in stat]
        if not acts:                                                      # reshapes a weight
            continue
        mean, var = stat[acts[0]]
        mine = by_node.get(n.output[0], {})
        op = n.op_type
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if op in {"Conv", "Gemm", "MatMul"} and 1 in mine:
            w = net.weights[mine[1]]
            fan_in = math.prod(w[1:]) if op == "Conv" else w[-1] if op == "Gemm" and attrs.get("transB", 0) else w[-2]
            normal(mine[1], 1.0 / math.sqrt(fan_in * (mean * mean + var)) / abs(attrs.get("alpha", 1.0)))
            if 2 in mine:
                normal(mine[2], _BIAS_STD)
            mean, var = 0.0, 1.0 + _BIAS_STD ** 2 * (2 in mine)
        elif op == "BatchNormalization":
            uniform(mine[1], 0.7, 1.3)                                    # scale
            normal(mine[2], _BIAS_STD)                                    # shift
            normal(mine[3], _BIAS_STD * math.sqrt(var), mean)             # running mean ~ the input's
            uniform(mine[4], 0.7 * var, 1.3 * var)                        # running var ~ the input's
            mean, var = 0.0, 1.0 + _BIAS_STD ** 2
        elif mine and op in {"Mul", "Add", "Sum", "Sub"} and len(mine) == 1:   # per-channel scale or shift
            k = next(iter(mine.values()))
            if op == "Mul":
                uniform(k, 0.7, 1.3)
                var += 0.03 * (mean * mean + var)
            else:
                normal(k, _BIAS_STD)
                var += _BIAS_STD ** 2
        elif mine:
            raise ValueError(f"{net.name}: no rule for weights {sorted(mine.values())} of {op} '{n.output[0]}'")
        elif op in {"Sum", "Add"}:
            mean, var = sum(stat[i][0] for i in acts), sum(stat[i][1] for i in acts)
        elif op == "Concat":
            chans = [shapes[i][attrs["axis"]] for i in acts]
            mean = sum(stat[i][0] * c for i, c in zip(acts, chans, strict=True)) / sum(chans)
            var = sum((stat[i][0] ** 2 + stat[i][1]) * c for i, c in zip(acts, chans, strict=True)) / sum(chans)
            var -= mean * mean
        elif op == "Relu":
            mean, var = _relu(mean, var)
        elif op == "MaxPool":
            m1, v1 = _max_of(math.prod(attrs["kernel_shape"]))
            mean, var = mean + m1 * math.sqrt(var), v1 * var
        elif op in {"AveragePool", "GlobalAveragePool"}:
            var /= math.prod(attrs["kernel_shape"]) if op == "AveragePool" else math.prod(shapes[n.input[0]][2:])
        elif op not in {"LRN", "Dropout", "Reshape", "Flatten", "Transpose", "Softmax", "Identity"}:
            raise ValueError(f"{net.name}: no statistics rule for {op} '{n.output[0]}'")
        for o in n.output:
            stat[o] = (mean, var)
    return out


def imagenet(name: str, size: int = 224, seed: int = 0) -> onnx.ModelProto:
    """An ImageNet network from the onnx wheel with seeded random weights, input 1x3x`size`x`size`.

    `name`: one of IMAGENET (or "alexnet"). `size` below 224 gives a reduced model: every shape after
    the input follows (Reshape targets, the pools that are global at 224, the first Gemm's weight);
    the smallest is MIN_SIZE[name], and a size the network cannot take is a ValueError naming the
    node. The result passes onnx.checker and carries inferred shapes (value_info).
    """
    name = ALIASES.get(name, name)
    if name not in IMAGENET:
        raise ValueError(f"unknown network '{name}': choose from {', '.join(IMAGENET + tuple(ALIASES))}")
    if not isinstance(size, int) or not 1 <= size <= 224:
        raise ValueError(f"{name}: size {size} out of range {MIN_SIZE[name]}..224")
    net = _load(name)
    skel = _adapt(net, size)
    shapes = _check_size(net, skel, size)
    weights = _fill(net, shapes, np.random.default_rng(seed))
    model = onnx.shape_inference.infer_shapes(skel, strict_mode=True)  # without weight data: cheap
    g = model.graph
    del g.input[1:]
    g.initializer.extend(numpy_helper.from_array(v, k) for k, v in weights.items())
    onnx.checker.check_model(model)
    return model


def _init(name: str, value: np.ndarray) -> TensorProto:
    return numpy_helper.from_array(np.asarray(value, np.float32), name)


def transformer_layer(seq: int = 128, d_model: int = 768, heads: int = 12, ffn: int = 3072, seed: int = 0,
                      opset: int = 20, gelu: str = "op", eps: float = 1e-5) -> onnx.ModelProto:
    """A post-LayerNorm transformer encoder layer (BERT-base sizes by default), batch 1.

    x[1, seq, d_model] -> multi-head self-attention (Q/K/V MatMul + bias, Reshape/Transpose to
    `heads` heads, Q K^T scaled by 1/sqrt(d_head), Softmax, times V, Transpose/Reshape back, output
    projection) -> residual Add -> LayerNormalization -> MatMul + bias, GELU, MatMul + bias ->
    residual Add -> LayerNormalization -> y. `gelu`: "op" uses the Gelu operator (opset >= 20),
    "erf" builds 0.5 x (1 + erf(x / sqrt 2)) from Div, Erf, Add, Mul (any opset >= 17, which
    LayerNormalization needs). Weights are N(0, 1/fan_in), biases small, LayerNorm scales ~1.
    """
    if d_model % heads:
        raise ValueError(f"d_model {d_model} is not a multiple of heads {heads}")
    if gelu not in {"op", "erf"}:
        raise ValueError(f"gelu '{gelu}': choose 'op' or 'erf'")
    if opset < 17 or (gelu == "op" and opset < 20):
        raise ValueError(f"opset {opset} too old: LayerNormalization needs 17, the Gelu operator 20 (or gelu='erf')")
    rng = np.random.default_rng(seed)
    dh = d_model // heads
    inits: list[TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def weight(name: str, rows: int, cols: int) -> str:
        inits.append(_init(name, rng.normal(0.0, 1.0 / math.sqrt(rows), (rows, cols))))
        return name

    def vector(name: str, n: int, mean: float, std: float) -> str:
        inits.append(_init(name, rng.normal(mean, std, n)))
        return name

    def node(op: str, inputs: Iterable[str], output: str, **attrs: object) -> str:
        nodes.append(helper.make_node(op, list(inputs), [output], name=output, **attrs))
        return output

    def linear(x: str, name: str, rows: int, cols: int) -> str:
        y = node("MatMul", [x, weight(f"{name}.weight", rows, cols)], f"{name}.matmul")
        return node("Add", [y, vector(f"{name}.bias", cols, 0.0, _BIAS_STD)], name)

    def layernorm(x: str, name: str) -> str:
        return node("LayerNormalization", [x, vector(f"{name}.scale", d_model, 1.0, 0.1),
                                           vector(f"{name}.bias", d_model, 0.0, _BIAS_STD)],
                    name, axis=-1, epsilon=eps)

    inits.append(numpy_helper.from_array(np.array([1, seq, heads, dh], np.int64), "heads_shape"))
    inits.append(numpy_helper.from_array(np.array([1, seq, d_model], np.int64), "model_shape"))
    inits.append(_init("attn.scale", np.array(1.0 / math.sqrt(dh))))
    split = {}
    for p in ("q", "k", "v"):
        y = node("Reshape", [linear("x", f"attn.{p}", d_model, d_model), "heads_shape"], f"attn.{p}.heads")
        split[p] = node("Transpose", [y], f"attn.{p}.t", perm=[0, 2, 3, 1] if p == "k" else [0, 2, 1, 3])
    s = node("MatMul", [split["q"], split["k"]], "attn.scores")
    s = node("Mul", [s, "attn.scale"], "attn.scaled")
    p = node("Softmax", [s], "attn.probs", axis=-1)
    c = node("MatMul", [p, split["v"]], "attn.context")
    c = node("Transpose", [c], "attn.context.t", perm=[0, 2, 1, 3])
    c = node("Reshape", [c, "model_shape"], "attn.context.merged")
    a = linear(c, "attn.out", d_model, d_model)
    h = layernorm(node("Add", ["x", a], "attn.residual"), "ln1")
    f = linear(h, "ffn.in", d_model, ffn)
    if gelu == "op":
        f = node("Gelu", [f], "ffn.gelu")
    else:
        inits += [_init("gelu.sqrt2", np.array(math.sqrt(2.0))), _init("gelu.one", np.array(1.0)),
                  _init("gelu.half", np.array(0.5))]
        e = node("Erf", [node("Div", [f, "gelu.sqrt2"], "ffn.gelu.div")], "ffn.gelu.erf")
        e = node("Add", [e, "gelu.one"], "ffn.gelu.add")
        f = node("Mul", [node("Mul", [f, e], "ffn.gelu.mul"), "gelu.half"], "ffn.gelu")
    f = linear(f, "ffn.out", ffn, d_model)
    node("LayerNormalization", [node("Add", [h, f], "ffn.residual"), vector("ln2.scale", d_model, 1.0, 0.1),
                                vector("ln2.bias", d_model, 0.0, _BIAS_STD)], "y", axis=-1, epsilon=eps)
    graph = helper.make_graph(nodes, "transformer_layer",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, d_model])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, seq, d_model])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    return model


def with_weight_changed(model: onnx.ModelProto, name: str, delta: float = 1.0) -> onnx.ModelProto:
    """A copy of `model` with the first element of initializer `name` changed by `delta`: the same
    network with one layer's weights changed (the instruction database's partial hit, docs/cache.md)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    t = next((t for t in out.graph.initializer if t.name == name), None)
    if t is None:
        raise KeyError(f"model {model.graph.name} has no initializer {name!r}")
    a = numpy_helper.to_array(t).copy()
    a.flat[0] += delta
    t.CopyFrom(numpy_helper.from_array(a, name))
    return out

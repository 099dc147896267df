"""The compiler's graph: an ONNX model as nodes over named, fully shaped values.

`import_onnx` loads a model (a path, bytes or a ModelProto; external data included), infers every
shape, folds constant subgraphs into values with data, and checks what the rest of the compiler
relies on: static shapes (a dynamic input dimension needs `input_shapes`), known element types, a
topological order. Errors are CompileError naming the node or value and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

from accel.errors import MachineError


class CompileError(MachineError):
    """A model the compiler cannot take: names the node or value and the problem."""


@dataclass
class Value:
    """A tensor of the graph: its static shape and numpy dtype; `data` when it is a constant."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    data: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass
class Node:
    """One ONNX node (op type, attributes as Python values, input and output value names; "" for
    an omitted optional input)."""

    name: str
    op: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    domain: str = ""
    proto: onnx.NodeProto | None = field(default=None, repr=False)  # as it came from the model

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


@dataclass
class Graph:
    nodes: list[Node]
    values: dict[str, Value]
    inputs: list[str]  # graph inputs that are not constants, in order
    outputs: list[str]
    opset: int
    name: str = "model"

    def producer(self) -> dict[str, Node]:
        return {o: n for n in self.nodes for o in n.outputs if o}

    def consumers(self) -> dict[str, list[Node]]:
        out: dict[str, list[Node]] = {}
        for n in self.nodes:
            for i in n.inputs:
                if i:
                    out.setdefault(i, []).append(n)
        return out

    def const(self, name: str) -> np.ndarray | None:
        v = self.values.get(name)
        return None if v is None else v.data


def load_model(model: str | Path | bytes | onnx.ModelProto) -> onnx.ModelProto:
    """A ModelProto from a path (with its external data), serialized bytes or a ModelProto."""
    if isinstance(model, onnx.ModelProto):
        return model
    try:
        if isinstance(model, bytes | bytearray):
            return onnx.load_from_string(bytes(model))
        path = Path(model)
        if not path.is_file():
            raise CompileError(f"{path}: no such model file")
        return onnx.load(str(path))
    except CompileError:
        raise
    except Exception as e:  # DecodeError, OSError, ...: the file is not an ONNX model
        raise CompileError(f"{model}: not an ONNX model ({type(e).__name__}: {e})") from None


def _attr_value(a: onnx.AttributeProto) -> Any:
    v = helper.get_attribute_value(a)
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, onnx.TensorProto):
        return numpy_helper.to_array(v)
    if isinstance(v, list) and v and isinstance(v[0], bytes):
        return [x.decode() for x in v]
    return v


def _dtype(elem_type: int, what: str) -> np.dtype:
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
    except Exception:
        raise CompileError(f"{what}: element type {elem_type} has no numpy type") from None


def pin_inputs(proto: onnx.ModelProto, input_shapes: dict[str, tuple[int, ...]] | None = None) -> None:
    """Pin the inputs' dynamic dimensions to the user's shapes in `proto` (in place); CompileError for
    a shape that does not fit, an input left dynamic, or a shape given for no input."""
    input_shapes = dict(input_shapes or {})
    inits = {t.name for t in proto.graph.initializer}
    g = proto.graph
    for vi in g.input:
        if vi.name in inits:
            continue
        dims = vi.type.tensor_type.shape.dim
        given = input_shapes.pop(vi.name, None)
        if given is not None:
            if len(given) != len(dims):
                raise CompileError(f"input {vi.name}: shape {tuple(given)} given, the model's has rank {len(dims)}")
            for d, n in zip(dims, given, strict=True):
                if d.HasField("dim_value") and d.dim_value != n:
                    raise CompileError(f"input {vi.name}: dimension {d.dim_value} fixed by the model, {n} given")
                d.dim_value = int(n)
        for k, d in enumerate(dims):
            if not d.HasField("dim_value") or d.dim_value <= 0:
                raise CompileError(f"input {vi.name}: dimension {k} ({d.dim_param or '?'}) is dynamic; give its "
                                   f"shape (accel compile --input-shape {vi.name}=1,3,224,224)")
    if input_shapes:
        raise CompileError(f"input shapes given for {sorted(input_shapes)}, which are not model inputs")


def import_onnx(model: str | Path | bytes | onnx.ModelProto,
                input_shapes: dict[str, tuple[int, ...]] | None = None) -> Graph:
    """The model as a Graph with every shape known and constants folded."""
    proto = load_model(model)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    if opset is None or not 7 <= opset:
        raise CompileError(f"opset {opset}: the compiler takes ONNX opsets 7 to {onnx.defs.onnx_opset_version()}")
    g = proto.graph
    init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    pin_inputs(proto, input_shapes)
    try:
        inferred = shape_inference.infer_shapes(proto, strict_mode=False, data_prop=True)
    except Exception as e:
        raise CompileError(f"shape inference failed: {e}") from None
    ig = inferred.graph
    values: dict[str, Value] = {}
    for vi in list(ig.input) + list(ig.value_info) + list(ig.output):
        t = vi.type.tensor_type
        if not t.HasField("shape") or not t.elem_type:
            continue
        dims = t.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            values[vi.name] = Value(vi.name, tuple(int(d.dim_value) for d in dims), _dtype(t.elem_type, vi.name))
    for name, a in init.items():
        values[name] = Value(name, tuple(a.shape), a.dtype, a)
    nodes = [Node(n.name or f"{n.op_type}_{k}", n.op_type, list(n.input), list(n.output),
                  {a.name: _attr_value(a) for a in n.attribute}, "" if n.domain == "ai.onnx" else n.domain, n)
             for k, n in enumerate(g.node)]
    graph = Graph(nodes, values, [vi.name for vi in g.input if vi.name not in init], [o.name for o in g.output],
                  opset, g.name or "model")
    _fold_constants(graph)
    used = {i for n in graph.nodes for i in n.inputs} | set(graph.outputs)
    for n in graph.nodes:
        n.outputs = [o if o in used or k == 0 else "" for k, o in enumerate(n.outputs)]  # drop unused extras
        for o in n.outputs:
            if o and o not in graph.values:
                raise CompileError(f"node {n.name} ({n.op}): the shape of output {o} is not static "
                                   "(shape inference could not work it out)")
    return graph


def _fold_constants(graph: Graph) -> None:
    """Evaluate every node whose inputs are all constants (Constant, ConstantOfShape, Shape of a
    static value, arithmetic on initializers, ...) and drop it: its outputs become constants."""
    keep = []
    for n in graph.nodes:
        if n.op == "Shape" and n.inputs[0] in graph.values:
            shape = np.array(graph.values[n.inputs[0]].shape, dtype=np.int64)
            start, end = n.attr("start", 0), n.attr("end", None)
            _set_const(graph, n.outputs[0], shape[start:end])
            continue
        ins = [i for i in n.inputs if i]
        if n.domain or n.op in ("RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                "Dropout") or not all(graph.const(i) is not None for i in ins):
            keep.append(n)
            continue
        try:
            results = evaluate_node(n, [graph.const(i) if i else None for i in n.inputs], graph.opset)
        except Exception as e:
            raise CompileError(f"node {n.name} ({n.op}): folding its constant inputs failed: {e}") from None
        for o, r in zip([o for o in n.outputs if o], results, strict=True):
            _set_const(graph, o, np.asarray(r))
    graph.nodes = keep


def evaluate_node(n: Node, inputs: list[np.ndarray | None], opset: int) -> list[np.ndarray]:
    """One node run by onnx.reference (the framework fallback and constant folding)."""
    from onnx.reference import ReferenceEvaluator

    names = [f"in{k}" if i is not None else "" for k, i in enumerate(inputs)]
    outs = [o for o in n.outputs if o]
    proto = onnx.NodeProto()
    proto.CopyFrom(n.proto) if n.proto is not None else None
    del proto.input[:]
    proto.input.extend(names)
    del proto.output[:]
    proto.output.extend(n.outputs)
    feeds = {nm: a for nm, a in zip(names, inputs, strict=True) if nm}
    model = helper.make_model(
        helper.make_graph([proto], "node", [helper.make_tensor_value_info(nm, helper.np_dtype_to_tensor_dtype(a.dtype),
                                                                          a.shape) for nm, a in feeds.items()],
                          [helper.make_tensor_value_info(o, 0, None) for o in outs]),
        opset_imports=[helper.make_opsetid(n.domain, graph_opset(n, opset))])
    return [np.asarray(r) for r in ReferenceEvaluator(model).run(None, feeds)]


def graph_opset(n: Node, opset: int) -> int:
    return opset if not n.domain else 1


def _set_const(graph: Graph, name: str, data: np.ndarray) -> None:
    graph.values[name] = Value(name, tuple(data.shape), data.dtype, data)

"""N:M sparse weights at compile time (accel.compiler.sparse, issue 14 part 4): weights that already
meet 2:4 run losslessly (bit for bit the dense program where one sparse block is one dense tile,
within the stated bound where it spans more), pruned layers equal a float64 reference of the pruned
model, the race checker finds nothing, dense stays the default, and bad --sparsity text is a
one-line CLI error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from test_opt_rowspread import SMALL, conv64, conv_model

from accel import CoreConfig
from accel.cli import main
from accel.compiler import CompileError, compile_model
from accel.compiler.plan import Options
from accel.compiler.reference import to_bf16
from accel.compiler.sparse import parse_patterns
from accel.timing import check_races
from accel.tools.sparsity import group_counts

SQUARE = CoreConfig(pe_rows=32, pe_cols=32, sbuf_partitions=32, psum_partitions=32)
DENSE = Options(reorder=False, row_spread=False)
LOSSLESS = Options(reorder=False, row_spread=False, sparsity=((2, 4), (4, 8)))
PRUNE = Options(reorder=False, row_spread=False, sparsity=((2, 4), (4, 8)), sparsity_target=0.5)


def keep_n_of_m(w: np.ndarray, n: int, m: int, axis: int) -> np.ndarray:
    """w with all but the n largest magnitudes of every group of m along `axis` zeroed."""
    t = np.moveaxis(w, axis, -1).copy()
    g = t.reshape(*t.shape[:-1], -1, m)
    drop = np.argsort(-np.abs(g), axis=-1)[..., n:]
    np.put_along_axis(g, drop, 0, axis=-1)
    return np.moveaxis(g.reshape(t.shape), -1, axis)


def gemm_model(m: int, k: int, n: int, b: np.ndarray | None = None, alpha: float = 1.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    if b is None:
        b = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    c = rng.standard_normal(n).astype(np.float32)
    nodes = [helper.make_node("Gemm", ["a", "b", "c"], ["y"], alpha=alpha), helper.make_node("Relu", ["y"], ["z"])]
    g = helper.make_graph(nodes, "gemm", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(b, "b"), numpy_helper.from_array(c, "c")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), b, c


def run(model, options, feeds, config=SMALL):
    cm = compile_model(model, config, options=options)
    r = cm.run(feeds)
    for tl in r.timelines:
        assert not check_races(tl)
    return cm, r


def test_a_weight_that_meets_2_4_runs_losslessly_bit_for_bit() -> None:
    """K = 32 on 32 rows: one sparse block of 16 physical rows is the dense program's one tile, the
    products summed in the same ascending order from +0.0 (the pruned ones are +-0 and change no
    sum), so the outputs are the dense program's bits, in fewer PE cycles."""
    rng = np.random.default_rng(3)
    b = keep_n_of_m((rng.standard_normal((32, 24)) / 6).astype(np.float32), 2, 4, axis=0)
    model, _, _ = gemm_model(4, 32, 24, b)
    a = {"a": rng.standard_normal((4, 32)).astype(np.float32)}
    dense_cm, dense = run(model, DENSE, a)
    cm, sparse = run(model, LOSSLESS, a)
    decision = cm.placements[0].sparse
    assert decision["pattern"] == "2:4" and decision["lossless"] and not decision["pruned"]
    assert "pe.matmul_sparse" in cm.listing and "pe.matmul_sparse" not in dense_cm.listing
    assert np.array_equal(sparse.outputs["z"].view(np.uint32), dense.outputs["z"].view(np.uint32))
    assert sparse.total_cycles < dense.total_cycles


def test_a_conv_that_meets_2_4_over_two_tiles_is_within_the_bound() -> None:
    """64 channels on 32 rows: one sparse block (J = 2 planes of 32 partitions) where the dense
    program sums two tiles and adds them in PSUM. Each is within gamma_n S of the exact sum, so they
    differ by at most 2 gamma_n S before bias and ReLU, plus one bf16 spacing at a rounding
    boundary; both also against the float64 oracle."""
    model, wt, bias = conv_model(1, 64, 24, 9, 9, 3, 1, [1, 1, 1, 1])
    wt = keep_n_of_m(wt, 2, 4, axis=1)
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(wt, "w"))
    x = {"x": np.random.default_rng(1).standard_normal((1, 64, 9, 9)).astype(np.float32)}
    _, dense = run(model, DENSE, x)
    cm, sparse = run(model, LOSSLESS, x)
    assert cm.placements[0].sparse["pattern"] == "2:4" and cm.placements[0].notes["matmuls"] < 9 * 2 * 2
    want, mag = conv64(to_bf16(x["x"]), to_bf16(wt), bias, 1, [1, 1, 1, 1], 1, 1)
    want = np.maximum(want, 0)
    gamma = wt[0].size * 2.0 ** -24
    a, b = dense.outputs["z"].astype(np.float64), sparse.outputs["z"].astype(np.float64)
    for got in (a, b):
        assert np.all(np.abs(got - want) <= gamma * mag + 2.0 ** -8 * np.abs(want) + 1e-30)
    assert np.all(np.abs(a - b) <= 2 * gamma * mag + 2.0 ** -7 * np.maximum(np.abs(a), np.abs(b)) + 1e-30)
    assert sparse.total_cycles < dense.total_cycles


@pytest.mark.parametrize("what", ["gemm", "conv"])
def test_pruned_output_equals_a_reference_of_the_pruned_model(what) -> None:
    """With a target the planner prunes every column to 2:4 or 4:8 (at least half the weights zero);
    the program's output equals a float64 reference of the pruned model on the same bf16 operands
    within gamma_n S plus half a bf16 spacing of the output, and is far from the unpruned model."""
    rng = np.random.default_rng(5)
    if what == "gemm":
        model, b, c = gemm_model(3, 96, 20, alpha=0.5)
        feeds = {"a": rng.standard_normal((3, 96)).astype(np.float32)}
    else:
        model, wt, c = conv_model(1, 64, 20, 8, 8, 3, 2, [1, 1, 1, 1])
        feeds = {"x": rng.standard_normal((1, 64, 8, 8)).astype(np.float32)}
    cm, r = run(model, PRUNE, feeds)
    p = cm.placements[0]
    assert p.sparse["pattern"] in ("2:4", "4:8") and p.sparse["pruned"] and p.sparse["sparsity"] >= 0.5
    got = r.outputs["z"].astype(np.float64)
    if what == "gemm":
        w = p.weights  # pruned B [K, N]
        n_, m_ = p.sparse["n"], p.sparse["m"]
        assert group_counts(w, m_).max() <= n_
        a = to_bf16(feeds["a"]).astype(np.float64)
        wb = to_bf16(w).astype(np.float64)
        want, mag = 0.5 * a @ wb + c, 0.5 * np.abs(a) @ np.abs(wb)
        full = 0.5 * a @ to_bf16(b).astype(np.float64) + c
        terms = 96
    else:
        w = p.weights  # pruned [cout, cin, kh, kw]
        assert group_counts(w.transpose(2, 3, 1, 0).reshape(-1, 20), p.sparse["m"]).max() <= p.sparse["n"]
        want, mag = conv64(to_bf16(feeds["x"]), to_bf16(w), c, 2, [1, 1, 1, 1], 1, 1)
        full, _ = conv64(to_bf16(feeds["x"]), to_bf16(wt), c, 2, [1, 1, 1, 1], 1, 1)
        terms = wt[0].size
    want, full = np.maximum(want, 0), np.maximum(full, 0)
    assert np.all(np.abs(got - want) <= terms * 2.0 ** -24 * mag + 2.0 ** -8 * np.abs(want) + 1e-30)
    assert np.abs(got - full).max() > 0.05  # the check sees the pruning


def test_dense_by_default_and_unpruned_weights_stay_dense() -> None:
    """Options() compiles no sparse instruction; without a target a weight that meets no pattern is
    not pruned (it stays dense: its decomposition would take more passes)."""
    model, _, _ = gemm_model(4, 32, 24)
    cm = compile_model(model, SMALL, options=DENSE)
    assert cm.placements[0].sparse is None and "sparse" not in cm.listing
    cm = compile_model(model, SMALL, options=LOSSLESS)
    assert cm.placements[0].sparse["pattern"] is None and "sparse" not in cm.listing


def test_parse_patterns_and_bad_options() -> None:
    assert parse_patterns("2:4, 4:8,2:4") == ((2, 4), (4, 8))
    for bad in ("", "2-4", "4:4", "2:17", "a:b,2:4"):
        with pytest.raises(ValueError, match="N:M"):
            parse_patterns(bad)
    model, _, _ = gemm_model(4, 32, 24)
    for bad, field in ((Options(sparsity=((4, 2),)), "Options.sparsity"),
                       (Options(sparsity=((2, 4),), sparsity_target=2.0), "Options.sparsity_target")):
        with pytest.raises(CompileError, match=field):
            compile_model(model, SMALL, options=bad)


def test_cli(tmp_path, capsys, monkeypatch) -> None:
    """--sparsity/--target through accel compile --report/--json and accel run --json (per-layer
    pattern, cycles, output error, the speed-up); bad text is one line naming the option and the
    allowed form, with and without --json."""
    monkeypatch.setenv("ACCEL_CACHE_DIR", str(tmp_path / "cache"))
    model, _, _ = gemm_model(1, 512, 256)
    path = tmp_path / "gemm.onnx"
    path.write_bytes(model.SerializeToString())
    assert main(["compile", str(path), "--report", "--sparsity", "2:4,4:8", "--target", "0.5"]) == 0
    assert "sparse 4:8 (pruned to 50% zeros" in capsys.readouterr().out
    assert main(["run", str(path), "--random-inputs", "--json", "--sparsity", "2:4", "--target", "0.5"]) == 0
    rep = json.loads(capsys.readouterr().out)["sparsity"]
    layer = rep["layers"][0]
    assert layer["pattern"] == "2:4" and layer["cycles"] < layer["dense_cycles"]
    assert 0 < layer["output_error"] < 1 and rep["speedup"] > 1
    for args, words in ((["--sparsity", "2:x"], ("--sparsity", "N:M")), (["--sparsity", "4:2"], ("--sparsity", "N:M")),
                        (["--target", "0.5"], ("--target", "--sparsity")),
                        (["--sparsity", "2:4", "--target", "1.5"], ("--target", "0..1"))):
        for extra in ([], ["--json"]):
            assert main(["compile", str(path), *args, *extra]) != 0
            err = capsys.readouterr().err.strip()
            assert len(err.splitlines()) == 1 and all(w in err for w in words), err


def test_sparse_layers_read_and_write_resident_tensors() -> None:
    """Residency and sparsity combine: 64 channels on a 32 x 32 array, so every 2:4 block is J = 2
    planes of 32 channels. A 3 x 3 conv then a 1 x 1 conv (the first's output kept as the second's
    padded-free planes), and a 3 x 3 conv whose output two nodes read (a 1 x 1 conv and the residual
    Add: kept as channel tiles by whole planes) beside the 1 x 1 conv's output (kept for the Add):
    every conv runs sparse with residency on and off, only the model's output is stored with it on,
    the values are the same bits, and the race checker finds nothing."""
    rng = np.random.default_rng(7)
    cases = [conv_pair(*(keep_n_of_m((rng.standard_normal(s) / 12).astype(np.float32), 2, 4, axis=1)
                         for s in ((64, 64, 3, 3), (32, 64, 1, 1))), rng, 64),
             residual(*(keep_n_of_m((rng.standard_normal(s) / 12).astype(np.float32), 2, 4, axis=1)
                        for s in ((64, 64, 3, 3), (64, 64, 1, 1))), rng)]
    for model, x in cases:
        outs = []
        for residency in (True, False):
            cm, r = run(model, Options(reorder=False, row_spread=False, residency=residency, sparsity=((2, 4),)), x,
                        SQUARE)
            convs = [p for p in cm.placements if p.node.op == "Conv"]
            assert [p.sparse["pattern"] for p in convs] == ["2:4"] * len(convs), [p.sparse for p in convs]
            in_dram = set(cm.steps[0].segment.dram)  # the graph values with a DRAM tensor
            assert in_dram == {"x", "z"} if residency else in_dram > {"x", "z"}
            outs.append(r.outputs["z"])
        assert np.array_equal(outs[0].view(np.uint32), outs[1].view(np.uint32))


def test_kept_tiles_that_are_not_the_blocks_give_dense_on_the_unpruned_weights() -> None:
    """48 channels on 32 partitions: residency keeps the 1 x 1 conv's input as planes of 32 and 16
    channels, but its 2:4 block is J = 2 planes of 24, so that conv runs dense (the reason given) on
    its weights as they were before the planner pruned them; the 3 x 3 conv before it runs sparse
    and drains into those planes; race-free."""
    rng = np.random.default_rng(8)
    d1, d2 = (rng.standard_normal(s).astype(np.float32) / 8 for s in ((48, 32, 3, 3), (16, 48, 1, 1)))
    nodes = [helper.make_node("Conv", ["x", "w1"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["y", "w2"], ["z"], kernel_shape=[1, 1])]
    g = helper.make_graph(nodes, "two", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32, 4, 4])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(d1, "w1"), numpy_helper.from_array(d2, "w2")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    x = {"x": rng.standard_normal((1, 32, 4, 4)).astype(np.float32)}
    cm, _ = run(model, Options(reorder=False, row_spread=False, sparsity=((2, 4),), sparsity_target=0.5), x, SQUARE)
    first, second = cm.placements
    assert first.sparse["pattern"] == "2:4" and first.sparse["pruned"]
    assert second.sparse["pattern"] is None and "24 channels" in second.sparse["why"], second.sparse
    assert np.array_equal(second.weights, d2) and set(cm.steps[0].segment.dram) == {"x", "z"}


def test_kept_planes_are_read_as_one_j_block_only_when_evenly_spaced() -> None:
    """_kept_blocks: a block of J = 2 planes of 32 channels is one pe.matmul_sparse operand at the
    kept planes' spacing; planes out of order or tiled otherwise give the reason instead."""
    from types import SimpleNamespace

    from accel.compiler.segment import Flat, Planes
    from accel.compiler.sparse import _kept_blocks

    p, passes = {"n": 2, "cin": 64}, [(0, 64, 2, 32)]
    planes = Planes(2, 6, 6, 1, 1, ((0, 32), (32, 32)), True)
    seg = SimpleNamespace(keep={"x": planes}, resident={"x": [0, 128, 256, 384]}, config=SQUARE)
    assert _kept_blocks(seg, "x", p, passes) == [[(0, 128)], [(256, 128)]]
    seg.resident["x"] = [0, 128, 384, 256]
    assert "not evenly spaced" in _kept_blocks(seg, "x", p, passes)
    seg.keep["x"] = Flat((2, 64, 4, 4))  # channel tiles of 32 partitions by whole planes
    assert "not evenly spaced" in _kept_blocks(seg, "x", p, passes)
    seg.resident["x"] = [0, 128, 256, 384]
    assert _kept_blocks(seg, "x", p, passes) == [[(0, 128)], [(256, 128)]]
    assert "24 channels" in _kept_blocks(seg, "x", {"n": 1, "cin": 48}, [(0, 48, 2, 24)])


def conv_pair(w1: np.ndarray, w2: np.ndarray, rng, cin: int = 32):
    """A 3 x 3 conv (padded) then a 1 x 1 conv on a [1, cin, 4, 4] input, and an input for it."""
    nodes = [helper.make_node("Conv", ["x", "w1"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["y", "w2"], ["z"], kernel_shape=[1, 1])]
    g = helper.make_graph(nodes, "two", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, 4, 4])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    return model, {"x": rng.standard_normal((1, cin, 4, 4)).astype(np.float32)}


def residual(w1: np.ndarray, w2: np.ndarray, rng):
    """y = relu(conv3x3(x)); z = y + conv1x1(y) on a [1, 64, 4, 4] input, and an input for it."""
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"]),
             helper.make_node("Conv", ["y", "w2"], ["d"], kernel_shape=[1, 1]),
             helper.make_node("Add", ["y", "d"], ["z"])]
    g = helper.make_graph(nodes, "res", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 4, 4])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    return model, {"x": rng.standard_normal((1, 64, 4, 4)).astype(np.float32)}


def test_a_layer_whose_sparse_form_does_not_fit_sbuf_stays_dense_and_unpruned() -> None:
    """An SBUF partition that holds the dense conv (input plane, weights, 8 KiB for the rest) but
    not its two input planes side by side with the sparse weights: dense, with the reason, and the
    weights not pruned."""
    model, wt, _ = conv_model(1, 64, 24, 9, 9, 3, 1, [1, 1, 1, 1])
    tight = CoreConfig(pe_rows=32, pe_cols=16, sbuf_partitions=32, psum_partitions=32, sbuf_partition_bytes=9000)
    cm = compile_model(model, tight, options=PRUNE)
    p = cm.placements[0]
    assert p.where == "core" and p.sparse["pattern"] is None and "bytes per SBUF partition" in p.sparse["why"]
    assert np.array_equal(p.weights, wt) and "sparse" not in cm.listing
    assert compile_model(model, SMALL, options=PRUNE).placements[0].sparse["pattern"]


def test_a_gemm_whose_sparse_weights_do_not_fit_sbuf_stays_dense() -> None:
    """_lower_matmul keeps all of a Gemm's sparse weights in SBUF at once (as AlexNet's 9216 x 4096 fc
    would not): a partition too small for them gives dense with the reason, not a CompileError."""
    model, b, _ = gemm_model(4, 512, 64)
    tight = CoreConfig(pe_rows=32, pe_cols=32, sbuf_partitions=32, psum_partitions=32, sbuf_partition_bytes=9000)
    cm = compile_model(model, tight, options=PRUNE)
    p = next(q for q in cm.placements if q.node.op == "Gemm")
    assert p.sparse["pattern"] is None and "sparse weights need" in p.sparse["why"], p.sparse
    assert "sparse" not in cm.listing
    assert compile_model(model, SQUARE, options=PRUNE).placements[0].sparse["pattern"]

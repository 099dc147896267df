"""Running sweeps: records, failing points, the per-point cache (resume without redoing a point), a
timed run against the cost model alone, and a Dask LocalCluster of two worker processes giving the
local pool's results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accel.sweep import pareto_front, parse_spec, run_point, run_sweep
from accel.sweep.runner import comparable, resolve

MLP = str(Path(__file__).resolve().parents[2] / "isa" / "examples" / "mlp.s")
TINY_LAYER = '[[models]]\nzoo = "transformer_layer"\nseq = 8\nd_model = 32\nheads = 2\nffn = 64\n'


def mlp_spec(rows: str = "[64, 128]", banks: str = "[16, 64]") -> str:
    return f"""[sweep]
cost_model_only = true
[[models]]
program = "{MLP}"
[vary]
pe_rows = {rows}
dma_bytes_per_cycle = {banks}
"""


def stable(records: list[dict]) -> list[dict]:
    return [comparable(r) for r in records]


def test_records_and_a_failing_point(tmp_path: Path) -> None:
    """mlp.s needs 128 PE rows: the 64-row points fail with the assembler's message, the sweep goes on."""
    records = run_sweep(parse_spec(mlp_spec()), cache=tmp_path / "c", workers=1, progress=False)
    assert [(r["pe_rows"], r["dma_bytes_per_cycle"]) for r in records] == [(64, 16), (64, 64), (128, 16), (128, 64)]
    bad, good = records[:2], records[2:]
    assert all(r["error"].startswith("AsmError: ") and "do not fit the 64 x 128 PE array" in r["error"] for r in bad)
    assert all("cycles" not in r for r in bad)
    for r in good:
        assert not r["error"] and r["cycles"] > 0 and r["bound"] == "DMA-bound" and r["macs"] == 282624
        assert r["area_mm2"] > 0 and r["energy_uj"] > 0 and r["dram_bytes"] == 27432
        assert 0 < r["pe_utilization"] < 1
    assert good[0]["cycles"] > good[1]["cycles"]  # more DRAM bandwidth, fewer cycles
    assert good[0]["area_mm2"] < good[1]["area_mm2"]  # a wider DMA beat: more DMA engine
    assert good[0]["area_dma_mm2"] < good[1]["area_dma_mm2"]
    assert good[0]["area_mm2"] - good[0]["area_dma_mm2"] == pytest.approx(good[1]["area_mm2"] - good[1]["area_dma_mm2"])


def test_cache_resumes_without_redoing_points(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    ran: list[dict] = []
    first = run_sweep(parse_spec(mlp_spec(banks="[16]")), cache=cache, workers=1, progress=False,
                      on_result=ran.append)
    assert len(ran) == 2 and len(list(cache.glob("*.json"))) == 2  # the failing point is cached too
    ran.clear()
    # the sweep grows (an interrupted one resumes the same way): only the new points run
    second = run_sweep(parse_spec(mlp_spec(banks="[16, 32]")), cache=cache, workers=1, progress=False,
                       on_result=ran.append)
    assert sorted(r["dma_bytes_per_cycle"] for r in ran) == [32, 32]
    assert [second[0], second[2]] == first
    ran.clear()
    third = run_sweep(parse_spec(mlp_spec(banks="[16, 32]")), cache=cache, workers=1, progress=False,
                      on_result=ran.append)
    assert not ran and third == second
    # a result on disk is one JSON per point named by its key; a torn file is ignored (run again)
    key = second[3]["key"]
    assert json.loads((cache / f"{key}.json").read_text())["cycles"] == second[3]["cycles"]
    (cache / f"{key}.json").write_text("{truncated")
    run_sweep(parse_spec(mlp_spec(banks="[16, 32]")), cache=cache, workers=1, progress=False, on_result=ran.append)
    assert [r["key"] for r in ran] == [key]


def test_key_changes_with_model_config_and_mode() -> None:
    from accel.sweep.runner import point_key

    model = resolve(parse_spec(mlp_spec()).models[0])
    k = point_key(model, {"pe_rows": 128}, True)
    assert k == point_key(model, {"pe_rows": 128}, True)
    assert k == point_key(model, {}, True)  # 128 is the default: the same core
    assert len({k, point_key(model, {"pe_rows": 64}, True), point_key(model, {"pe_rows": 128}, False)}) == 3


def test_timed_run_and_cost_model_give_the_same_cycles() -> None:
    """A compiled model's core segments take the same cycles with values or without (no instruction's
    time depends on data); only the timed run computes values."""
    m = resolve(parse_spec(TINY_LAYER).models[0])
    timed = run_point(m, {}, {"pe_rows": 64, "pe_cols": 64}, cost_model_only=False)
    cost = run_point(m, {}, {"pe_rows": 64, "pe_cols": 64}, cost_model_only=True)
    assert not timed["error"] and not cost["error"]
    assert stable([timed]) == stable([cost])


def test_bad_config_point_is_recorded() -> None:
    m = resolve(parse_spec(TINY_LAYER).models[0])
    rec = run_point(m, {}, {"pe_rows": 256}, cost_model_only=True)
    assert rec["error"] == "ConfigError: CoreConfig.pe_rows = 256: allowed 1..sbuf_partitions (128)"


def test_pareto_front_by_hand() -> None:
    pts = [(1, 10), (2, 7), (2, 5), (3, 5), (4, 1), (0.5, 20)]
    records = [{"area_mm2": a, "cycles": c, "error": ""} for a, c in pts]
    records[5]["error"] = "failed"  # never on the front
    assert pareto_front(records) == [0, 2, 4]
    assert pareto_front(records, "cycles", "area_mm2") == [4, 2, 0]


def test_dask_local_cluster_equals_the_local_pool(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    spec = parse_spec(mlp_spec(banks="[16, 32, 64]") + TINY_LAYER.replace("[[models]]", "[[models]]", 1))
    local = run_sweep(spec, cache=None, workers=2, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run_sweep(spec, cache=tmp_path / "c", scheduler=cluster.scheduler_address, progress=False)
    assert len(local) == 12 and stable(remote) == stable(local)
    assert sum(bool(r["error"]) for r in local) == 3


def test_points_share_a_lowering_only_where_the_compile_agrees() -> None:
    """Points that differ in timing constants reuse the worker's kept lowering (the fields it read are
    sizes and DMA bandwidth, no timing constant), and each gives exactly compile_model's program; a
    point with another PE array is lowered anew."""
    from accel.compiler import compile_model
    from accel.config import CoreConfig
    from accel.sweep import runner

    m = resolve(parse_spec(TINY_LAYER).models[0])
    runner._LOWERED.clear()
    configs = [CoreConfig(pe_rows=64, pe_cols=64), CoreConfig(pe_rows=64, pe_cols=64, dma_latency_cycles=500,
                                                             dma_queues=1, queue_depth=2, act_setup_cycles=40),
               CoreConfig(pe_rows=32, pe_cols=64)]
    kept, reorders = [], []
    for cfg in configs:
        (got, reused), ref = runner._compiled(m, cfg), compile_model(m.data, cfg)
        kept.append(runner._LOWERED[0][2])
        reorders.append([s.reorder for s in got.steps])
        assert reused == (cfg is configs[1])
        assert got.config == cfg and [s.listing for s in got.steps] == [s.listing for s in ref.steps]
        assert [s.program.to_bytes() for s in got.steps if s.program] == \
            [s.program.to_bytes() for s in ref.steps if s.program]
        assert [s.reorder for s in got.steps] == [s.reorder for s in ref.steps]
    read = runner._LOWERED[0][1]
    assert {"pe_rows", "pe_cols", "dma_bytes_per_cycle"} <= set(read)
    assert not set(read) & {"dma_latency_cycles", "dma_queues", "queue_depth", "act_setup_cycles"}
    assert kept[0] is kept[1] and kept[2] is not kept[0] and len(runner._LOWERED) == 2
    assert reorders[0] != reorders[1]  # the same lowering, reordered by each point's own timing constants


def test_a_layer_that_does_not_fit_names_its_node_and_the_limit(tmp_path: Path) -> None:
    """A 3x3 conv of 768 -> 256 channels on a 16-row array keeps all 48 input-channel tiles' planes in
    SBUF at once, and its weights for all 256 output channels do not fit beside them: streamed one tile
    of 16 output channels at a time, they take 48 x (64 + 320) = 18,432 bytes a partition (aligned), so
    at 16 KiB the point fails and its record names the node, what it holds and the limit; at 32 KiB it
    runs (streamed)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((256, 768, 3, 3)).astype(np.float32), "w")
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="wide_conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    graph = helper.make_graph([conv], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 768, 1, 1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 256, 1, 1])], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "conv.onnx")
    spec = parse_spec(f'[sweep]\ncost_model_only = true\n[[models]]\nonnx = "{tmp_path / "conv.onnx"}"\n'
                      "[core]\npe_rows = 16\npe_cols = 16\n[vary]\nsbuf_partition_bytes = [16384, 32768]\n")
    small, big = run_sweep(spec, cache=None, workers=1, progress=False)
    assert small["error"] == (
        "CompileError: node wide_conv (Conv): each of its 48 input-channel tiles (16 PE rows) keeps its padded input "
        "plane (18 bytes) and its weights for 16 output channels (3x3: 288 bytes, streamed a tile of 16 PE columns "
        "at a time) in SBUF at once: 18432 bytes per partition, more than sbuf_partition_bytes = 16384")
    assert not big["error"] and big["cycles"] > 0 and big["macs"] == 768 * 256 * 9

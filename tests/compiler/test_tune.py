"""Tuning by simulation (accel.compiler.tune, issue 14 part 5): each layer's alternatives timed
alone, the faster kept only when the whole model's timed run confirms it, its values those of the
chosen lowering, choices cached in the instruction database, the budget, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_opt_rowspread import SMALL, conv_model
from test_opt_sparse import gemm_model

from accel.cli import main
from accel.compiler import compile_model, tune
from accel.compiler.cache import InstructionCache
from accel.compiler.plan import Options
from accel.timing import check_races

OPT = Options(reorder=False)


def test_tuning_picks_plain_where_spreading_loses_and_confirms_it(tmp_path) -> None:
    """16 channels of a 3 x 3 conv on 32 rows: the heuristic spreads it, the timing model says the
    plain lowering is faster; the tuned model is the plain program (same values, bit for bit),
    race-free, and faster in the whole timed run."""
    m, _, _ = conv_model(1, 16, 8, 10, 10, 3, 1, [1, 1, 1, 1])
    cm, rep = tune.compile_tuned(m, SMALL, cache=InstructionCache(tmp_path), options=OPT, progress=False)
    (row,) = rep["layers"]
    assert row["default"] == "spread" and row["cycles"]["plain"] < row["cycles"]["spread"]
    assert rep["changed"] == {"Conv_0": "plain"} and rep["kept"] == "tuned"
    assert rep["tuned_cycles"] < rep["default_cycles"]
    assert cm.placements[0].notes["spread"] is None
    x = {"x": np.random.default_rng(0).standard_normal((1, 16, 10, 10)).astype(np.float32)}
    got = cm.run(x)
    assert not any(check_races(tl) for tl in got.timelines)
    plain = compile_model(m, SMALL, options=Options(reorder=False, row_spread=False)).run(x)
    assert np.array_equal(got.outputs["z"].view(np.uint32), plain.outputs["z"].view(np.uint32))
    assert got.total_cycles == rep["tuned_cycles"]


def test_a_faster_default_is_kept_and_choices_come_from_the_database(tmp_path, monkeypatch) -> None:
    """ResNet's stem: spreading wins, so the default compile is kept unchanged; a second tuning with
    the same database simulates nothing (every choice is a hit)."""
    m, _, _ = conv_model(1, 3, 16, 20, 20, 7, 2, [3, 3, 3, 3])
    cache = InstructionCache(tmp_path)
    cm, rep = tune.compile_tuned(m, SMALL, cache=cache, options=OPT, progress=False)
    assert rep["changed"] == {} and rep["kept"].startswith("default") and rep["cached"] == 0
    assert cm.listing == compile_model(m, SMALL, options=OPT).listing

    def boom(*_a, **_k):
        raise AssertionError("simulated a cached layer")

    monkeypatch.setattr(tune, "layer_cycles", boom)
    _, again = tune.compile_tuned(m, SMALL, cache=cache, options=OPT, progress=False)
    assert again["cached"] == 1 and again["layers"][0]["cycles"] == rep["layers"][0]["cycles"]


def test_sparse_or_dense_and_the_budget() -> None:
    """A layer on the sparse array has dense as its alternative; past the budget a layer keeps its
    default without being simulated."""
    model, _, _ = gemm_model(4, 64, 40)
    opts = Options(reorder=False, sparsity=((2, 4),), sparsity_target=0.5)
    _, rep = tune.compile_tuned(model, SMALL, options=opts, progress=False)
    (row,) = rep["layers"]
    assert set(row["cycles"]) == {"sparse", "dense"} and row["choice"] == min(row["cycles"], key=row["cycles"].get)
    _, rep = tune.compile_tuned(model, SMALL, options=opts, seconds=1e-9, progress=False)
    assert rep["layers"] == [] and rep["over_budget"] == 1 and rep["kept"].startswith("default")
    with pytest.raises(Exception, match="budget"):
        tune.compile_tuned(model, SMALL, options=opts, seconds=0, progress=False)


def test_cli(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ACCEL_CACHE_DIR", str(tmp_path / "cache"))
    m, _, _ = conv_model(1, 16, 8, 10, 10, 3, 1, [1, 1, 1, 1])
    path = tmp_path / "conv.onnx"
    path.write_bytes(m.SerializeToString())
    assert main(["compile", str(path), "--tune", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)["tuning"]
    assert rep["layers"] and rep["tuned_cycles"] <= rep["default_cycles"]
    assert main(["compile", str(path), "--tune", "--report"]) == 0
    assert "tuning: 1 layers with a choice" in capsys.readouterr().out
    for args, words in ((["--tune-seconds", "5"], ("--tune-seconds", "--tune")),
                        (["--tune", "--tune-seconds", "0"], ("--tune-seconds", "positive"))):
        assert main(["compile", str(path), *args]) != 0
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and all(w in err for w in words), err


def test_gemm_layouts() -> None:
    """A Gemm with 8 rows of A (below ROWS_LAYOUT_MIN: the heuristic takes B stationary and a
    transposing DMA of A^T): the rows layout times faster alone and in the whole model, is kept, and
    its values equal the float64 product of the bf16 operands within gamma_n S plus half a bf16 spacing."""
    from test_opt_sparse import gemm_model

    from accel.compiler.reference import to_bf16

    model, b, c = gemm_model(8, 256, 64)
    cm, rep = tune.compile_tuned(model, SMALL, options=OPT, progress=False)
    (row,) = rep["layers"]
    assert row["default"] == "cols" and row["cycles"]["rows"] < row["cycles"]["cols"]
    assert rep["changed"] == {"Gemm_0": "rows"} and rep["kept"] == "tuned" and cm.placements[0].layout == "rows"
    a = np.random.default_rng(4).standard_normal((8, 256)).astype(np.float32)
    got = cm.run({"a": a})
    assert not any(check_races(tl) for tl in got.timelines) and got.total_cycles == rep["tuned_cycles"]
    a64, b64 = to_bf16(a).astype(np.float64), to_bf16(b).astype(np.float64)
    want, mag = np.maximum(a64 @ b64 + c, 0), np.abs(a64) @ np.abs(b64)
    assert np.all(np.abs(got.outputs["z"] - want) <= 256 * 2.0 ** -24 * mag + 2.0 ** -8 * np.abs(want) + 1e-30)


def _matmuls(cm) -> int:
    return sum(line.split()[0] == "pe.matmul" for line in cm.listing.splitlines() if line.strip())


@pytest.mark.parametrize("case", ["conv plain", "conv spread", "gemm cols", "gemm rows"])
def test_a_tile_changes_the_chunks_not_the_values(case) -> None:
    """A tile (PSUM elements a matmul) splits the output into more, smaller chunks (more matmuls) and
    leaves every output element's arithmetic order alone: the values are the untuned program's, bit for
    bit, and the program is race-free."""
    rng = np.random.default_rng(5)
    if case.startswith("conv"):
        cin, k, pads = (32, 3, [1, 1, 1, 1]) if case == "conv plain" else (3, 7, [3, 3, 3, 3])
        model, _, _ = conv_model(1, cin, 8, 24, 24, k, 1, pads)  # 24 x 24 outputs: 576 > a bank of 512
        feeds, node = {"x": rng.standard_normal((1, cin, 24, 24)).astype(np.float32)}, "Conv_0"
        choices = ("plain/256", "plain/128") if case == "conv plain" else ("spread/256", "spread/128")
        default = compile_model(model, SMALL, options=OPT)
        assert (default.placements[0].notes["spread"] is None) == (case == "conv plain")
    else:
        m, n, layout = (600, 40, "cols") if case == "gemm cols" else (64, 600, "rows")
        model, _, _ = gemm_model(m, 32, n)
        feeds, node = {"a": rng.standard_normal((m, 32)).astype(np.float32)}, "Gemm_0"
        choices = (f"{layout}/256", f"{layout}/128")
        default = compile_model(model, SMALL, options=Options(reorder=False, tuned=((node, layout),)))
    want = default.run(feeds).outputs["z"].view(np.uint32)
    counts = [_matmuls(default)]
    for choice in choices:
        cm = compile_model(model, SMALL, options=Options(reorder=False, tuned=((node, choice),)))
        assert cm.placements[0].tile == int(choice.split("/")[1])
        got = cm.run(feeds)
        assert not any(check_races(tl) for tl in got.timelines)
        assert np.array_equal(got.outputs["z"].view(np.uint32), want), choice
        counts.append(_matmuls(cm))
    assert counts[0] < counts[1] < counts[2], counts
    if case.startswith("conv"):  # the report's count is the program's
        assert cm.placements[0].notes["matmuls"] == counts[2]


def test_tiles_are_alternatives_timed_and_confirmed() -> None:
    """8 channels of a 3 x 3 conv with 24 x 24 outputs (more than a bank): spread and plain, each at a
    whole, half and quarter bank; the fastest alone is spread at half a bank (the drain and the
    store of the last chunk are shorter), the whole timed run confirms it, and the kept model's values
    are the default's bits. A 10 x 10 output has no tile alternative (a quarter bank holds its rows)."""
    model, _, _ = conv_model(1, 8, 16, 24, 24, 3, 1, [1, 1, 1, 1])
    cm, rep = tune.compile_tuned(model, SMALL, options=OPT, progress=False)
    (row,) = rep["layers"]
    assert list(row["cycles"]) == ["spread", "plain", "spread/256", "spread/128", "plain/256", "plain/128"]
    assert row["choice"] == "spread/256" == min(row["cycles"], key=row["cycles"].get)
    assert rep["kept"] == "tuned" and rep["applied"] == {"Conv_0": "spread/256"}
    assert rep["candidates"] == [{"tuned": {"Conv_0": "spread/256"}, "cycles": rep["tuned_cycles"]}]
    assert rep["tuned_cycles"] < rep["default_cycles"] and cm.placements[0].tile == 256
    x = {"x": np.random.default_rng(6).standard_normal((1, 8, 24, 24)).astype(np.float32)}
    got = cm.run(x)
    assert got.total_cycles == rep["tuned_cycles"] and not any(check_races(tl) for tl in got.timelines)
    default = compile_model(model, SMALL, options=OPT).run(x)
    assert np.array_equal(got.outputs["z"].view(np.uint32), default.outputs["z"].view(np.uint32))
    small, _, _ = conv_model(1, 32, 8, 10, 10, 3, 1, [1, 1, 1, 1])
    base = compile_model(small, SMALL, options=OPT)
    assert tune.alternatives(base.placements[0], base.graph, SMALL) == ()

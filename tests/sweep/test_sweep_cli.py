"""`accel sweep` from the command line (table, --json, CSV, plots, one-line errors) and the area and
energy `accel run --json` reports for a program and for an ONNX model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import onnx
import pytest

from accel.cli import main

MLP = str(Path(__file__).resolve().parents[2] / "isa" / "examples" / "mlp.s")
SPEC = f"""[sweep]
cost_model_only = true
[[models]]
program = "{MLP}"
[vary]
pe_rows = [64, 128]
dma_bytes_per_cycle = [16, 32]
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    p = tmp_path / "s.toml"
    p.write_text(SPEC)
    return p


def test_sweep_json_csv_and_plots(spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, plot, heat = tmp_path / "r.csv", tmp_path / "p.png", tmp_path / "h.png"
    assert main(["sweep", str(spec), "--json", "--no-progress", "--workers", "1", "-o", str(out), "--plot", str(plot),
                 "--heatmap", f"energy_uj:pe_rows:dma_bytes_per_cycle={heat}"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["points"] == 4 and d["failed"] == 2 and d["cache"] == str(spec.with_suffix(".cache"))
    assert d["csv"] == str(out) and d["plot"] == str(plot) and d["heatmap energy_uj"] == str(heat)
    rows = list(csv.DictReader(out.open()))
    assert [r["pe_rows"] for r in rows] == ["64", "64", "128", "128"]
    assert int(rows[2]["cycles"]) == d["records"][2]["cycles"] and rows[0]["error"].startswith("AsmError")
    for r, rec in zip(rows[2:], d["records"][2:], strict=True):  # area and energy, totals and components
        for col in ("area_mm2", "energy_uj", "area_pe_array_mm2", "area_dma_mm2", "energy_dram_uj", "energy_pe_uj"):
            assert float(r[col]) == rec[col] > 0, col
    assert rows[0]["area_mm2"] == rows[0]["energy_uj"] == ""  # a failed point has no figures
    assert plot.read_bytes()[:4] == b"\x89PNG" and heat.read_bytes()[:4] == b"\x89PNG"
    # the second time every point comes from the cache: the table, the same figures
    assert main(["sweep", str(spec), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "4 points (2 failed)" in text and f"{d['records'][3]['cycles']:,}" in text
    assert "error: AsmError: mlp.s:" in text


@pytest.mark.parametrize("extra, message", [
    (["--heatmap", "cycles:pe_rows=x.png"], "expected METRIC:X:Y=out.png"),
    (["--heatmap", "cycles:pe_rows:pe_cols=x.png"], "'pe_cols' is not a varied field"),
    (["--heatmap", "speed:pe_rows:dma_bytes_per_cycle=x.png"], "metric 'speed'"),
    (["-o", "/nonexistent/dir/r.csv"], "-o /nonexistent/dir/r.csv: folder /nonexistent/dir does not exist"),
    (["--workers", "0"], "--workers 0: at least 1"),
])
def test_sweep_option_errors(spec: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", str(spec), "--json", *extra]) == 1
    captured = capsys.readouterr()
    assert message in json.loads(captured.out)["error"]
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_sweep_spec_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "s.toml"
    p.write_text(SPEC.replace("pe_rows = [64, 128]", "pe_rows = [64, 512]"))
    assert main(["sweep", str(p)]) == 1
    err = capsys.readouterr().err
    assert err == f"accel: error: {p}:6: [vary] pe_rows: 512: allowed integers 1..256\n"


def test_run_json_reports_area_and_energy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from accel.compiler import zoo

    assert main(["run", MLP, "--random-inputs", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["area"]["mm2"] > 0 and d["energy"]["actions"]["macs"]["bf16"] == d["timing"]["pe"]["macs"]
    assert d["energy"]["uj"] == pytest.approx(sum(d["energy"]["components_uj"].values()))
    assert main(["run", MLP, "--timing-only", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["energy"] == d["energy"]  # no action depends on values
    model = tmp_path / "layer.onnx"
    onnx.save(zoo.transformer_layer(seq=8, d_model=32, heads=2, ffn=64), model)
    assert main(["run", str(model), "--random-inputs", "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["area"] == d["area"] and m["energy"]["actions"]["dram_bytes"] > 0

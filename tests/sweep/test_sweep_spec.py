"""The sweep spec: what a valid spec expands to, and one readable error (file, line, field, range)
for each kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from accel.sweep import SpecError, load_spec, parse_spec

MLP = str(Path(__file__).resolve().parents[2] / "isa" / "examples" / "mlp.s")


def spec(body: str, models: str = f'[[models]]\nprogram = "{MLP}"\n') -> str:
    return models + body


def test_grid_ranges_and_lists() -> None:
    s = parse_spec(spec("""
[core]
psum_banks = 4
[vary]
pe_rows = [64, 128]
dma_bytes_per_cycle = {start = 16, stop = 64, factor = 2}
sbuf_partition_bytes = {start = 65536, stop = 196608, step = 65536}
"""))
    assert s.base == {"psum_banks": 4} and s.vary == ["pe_rows", "dma_bytes_per_cycle", "sbuf_partition_bytes"]
    assert len(s.configs) == 2 * 3 * 3 and len(s.points) == 18
    assert s.configs[0] == {"pe_rows": 64, "dma_bytes_per_cycle": 16, "sbuf_partition_bytes": 65536}
    assert s.configs[-1] == {"pe_rows": 128, "dma_bytes_per_cycle": 64, "sbuf_partition_bytes": 196608}
    assert not s.cost_model_only


def test_a_tied_field_follows_the_field_it_names() -> None:
    s = parse_spec(spec('[vary]\npe_rows = [32, 64]\npe_cols = "pe_rows"\ndma_bytes_per_cycle = [8, 16]\n'))
    assert s.configs == [{"pe_rows": r, "pe_cols": r, "dma_bytes_per_cycle": b} for r in (32, 64) for b in (8, 16)]


def test_random_samples_are_seeded_and_in_range() -> None:
    text = spec("""
[sweep]
samples = 25
seed = 3
cost_model_only = true
[vary]
pe_rows = [64, 128]
dma_latency_cycles = {random = [16, 256]}
pe_cols = {choice = [32, 64]}
""")
    a, b = parse_spec(text), parse_spec(text)
    assert a.configs == b.configs and len(a.configs) == 2 * 25 and a.cost_model_only
    assert {c["pe_cols"] for c in a.configs} == {32, 64}
    assert all(16 <= c["dma_latency_cycles"] <= 256 for c in a.configs)
    assert len({c["dma_latency_cycles"] for c in a.configs}) > 10
    other = parse_spec(text.replace("seed = 3", "seed = 4"))
    assert other.configs != a.configs


def test_samples_without_random_fields_take_a_subset_of_the_grid() -> None:
    s = parse_spec(spec("[sweep]\nsamples = 5\n[vary]\npe_rows = {start = 1, stop = 128}\n"))
    rows = [c["pe_rows"] for c in s.configs]
    assert len(rows) == 5 == len(set(rows)) and rows == sorted(rows)


def test_models_by_kind_and_shorthand(tmp_path: Path) -> None:
    (tmp_path / "m.onnx").write_bytes(b"")
    s = parse_spec(f"""
models = ["resnet50", "m.onnx", "{MLP}"]
""", str(tmp_path / "s.toml"), tmp_path)
    assert [m.kind for m in s.models] == ["zoo", "onnx", "program"]
    assert s.models[1].what == str(tmp_path / "m.onnx") and s.configs == [{}]
    t = parse_spec('[[models]]\nzoo = "resnet50"\nsize = 32\n')
    assert t.models[0].label == "resnet50(size=32)"


@pytest.mark.parametrize("body, message", [
    ("[vary]\npe_rowz = [1]\n", r"s.toml:4: \[vary\] pe_rowz: not a CoreConfig field \(did you mean pe_rows"),
    ("[vary]\npe_rows = [64, 300]\n", r"s.toml:4: \[vary\] pe_rows: 300: allowed integers 1..256"),
    ("[vary]\n\npe_rows = {start = 0, stop = 4}\n", r"s.toml:5: \[vary\] pe_rows: 0: allowed integers 1..256"),
    ("[vary]\npe_rows = {start = 8, stop = 4}\n", r"start 8 > stop 4"),
    ("[vary]\npe_rows = {start = 8, stop = 64, factor = 1}\n", r"factor = 1: an integer >= 2"),
    ("[vary]\npe_rows = {random = [8, 64]}\n", r"\[vary\] pe_rows: a random field needs \[sweep\] samples = N"),
    ("[vary]\npe_rows = {lo = 8}\n", r"keys \['lo'\]: expected"),
    ("[vary]\npe_rows = []\n", r"an empty list"),
    ("[vary]\npe_rows = 64\n", r"64: expected a list"),
    ("[core]\npe_rows = 64.5\n", r"s.toml:4: \[core\] pe_rows: 64.5: allowed integers 1..256"),
    ("[core]\npe_rows = 64\n[vary]\npe_rows = [32]\n", r"\[vary\] pe_rows: also fixed in \[core\]"),
    ("[sweep]\nsamples = 0\n", r"s.toml:4: \[sweep\] samples: 0: at least 1"),
    ('[vary]\npe_rows = [8]\npe_cols = "pe_row"\n', r"s.toml:5: \[vary\] pe_cols: = 'pe_row': a tie names another "
                                                   r"varied field that is not itself a tie \(varied: pe_rows\)"),
    ("[sweep]\nworkers = 2\n", r"\[sweep\] workers: unknown key; known: cost_model_only, samples, seed"),
    ("[sweep]\ncost_model_only = 1\n", r"cost_model_only: 1: expected bool"),
    ("[vari]\npe_rows = [1]\n", r"s.toml:3: \[vari\]: unknown section \(did you mean \[vary\]\?\)"),
    ("[vary\n", r"s.toml: .*line 3"),
])
def test_errors_name_file_line_and_field(body: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_spec(spec(body), "s.toml")


@pytest.mark.parametrize("models, message", [
    ("", r"\[models\]: no models"),
    ('[[models]]\nzoo = "resnet51"\n', r"s.toml:2: \[models\] zoo: 'resnet51': not a zoo model; known: resnet50"),
    ('[[models]]\nonnx = "missing.onnx"\n', r"\[models\] onnx: missing.onnx: no such file"),
    ('[[models]]\nzoo = "resnet50"\nonnx = "x.onnx"\n', r"model 1: give exactly one of zoo, onnx, program"),
    (f'[[models]]\nprogram = "{MLP}"\nsize = 3\n', r"a program takes no arguments"),
])
def test_model_errors(models: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_spec(models, "s.toml")


def test_unreadable_spec(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"nope.toml: No such file"):
        load_spec(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(bad)

"""The `accel` command: every subcommand works, and every failure is one readable message."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from accel.cli import main
from accel.isa.spec import REPO_ROOT

MLP = str(REPO_ROOT / "isa" / "examples" / "mlp.s")


def test_asm_disasm_roundtrip(tmp_path, capsys):
    out = tmp_path / "mlp.bin"
    assert main(["asm", MLP, "-o", str(out)]) == 0
    assert main(["disasm", str(out)]) == 0
    text = capsys.readouterr().out.split("\n", 1)[1]
    src = tmp_path / "again.s"
    src.write_text(text)
    again = tmp_path / "again.bin"
    assert main(["asm", str(src), "-o", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()


def test_run_with_npy_files_and_json(tmp_path, capsys):
    rng = np.random.default_rng(3)
    shapes = {"x": (32, 128), "w1": (128, 64), "b1": (64, 1), "w2": (64, 10), "b2": (10, 1)}
    args = ["run", MLP, "--json", "--out", f"y={tmp_path / 'y.npy'}"]
    for name, shape in shapes.items():
        np.save(tmp_path / f"{name}.npy", rng.standard_normal(shape).astype(np.float32))
        args += ["--in", f"{name}={tmp_path / f'{name}.npy'}"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["stats"]["macs"] == 32 * 128 * 64 + 32 * 64 * 10
    assert report["stats"]["instructions"]["DMA"] == 8
    y = np.load(tmp_path / "y.npy")
    assert y.shape == (32, 10) and np.isfinite(y).all()


def test_run_binary_with_config(tmp_path, capsys):
    (tmp_path / "cfg.toml").write_text("[core]\npe_rows = 128\npsum_banks = 4\n")
    assert main(["asm", MLP, "-o", str(tmp_path / "p.bin")]) == 0
    assert main(["run", str(tmp_path / "p.bin"), "--random-inputs", "--config", str(tmp_path / "cfg.toml")]) == 0
    assert "MACs" in capsys.readouterr().out


def test_isa_and_demo(capsys):
    assert main(["isa"]) == 0
    assert "ISA.md" in capsys.readouterr().out
    assert main(["demo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["result"] == "PASS"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "missing.s"], "missing.s: no such file"),
        (["disasm", "missing.bin"], "no such file"),
        (["run", MLP], "input x (bf16[32, 128], role in) was not given"),
        (["run", MLP, "--random-inputs", "--in", "x"], "expected NAME=file.npy"),
        (["run", MLP, "--random-inputs", "--in", "x=nothere.npy"], "--in x=nothere.npy: no such file"),
        (["run", MLP, "--random-inputs", "--out", "q=q.npy"], "not an output tensor"),
        (["run", MLP, "--random-inputs", "--config", "CFG"], "CoreConfig.pe_rows = 0: allowed integers 1..256"),
    ],
)
def test_errors_are_one_readable_line(tmp_path, capsys, monkeypatch, argv, fragment):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "CFG").write_text("pe_rows = 0\n")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err
    assert err.startswith("accel: error: ")


def test_assembly_error_shows_caret(tmp_path, capsys):
    bad = tmp_path / "bad.s"
    bad.write_text("nop pe\nvec.add sb[0:4, 0]:fp32[4], sb[0:4, 0]:fp32[4], sbx[0:4, 0]:fp32[4]\n")
    assert main(["asm", str(bad)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == (f"{bad}:2:49: error: expected an access pattern like sb[0:128, 0]:bf16[64], "
                        "got 'sbx[0:4, 0]:fp32[4]'")
    assert lines[2].index("^") == lines[1].index("sbx")


def test_corrupt_binary(tmp_path, capsys):
    good = tmp_path / "p.bin"
    assert main(["asm", MLP, "-o", str(good)]) == 0
    data = bytearray(good.read_bytes())
    data[-64] = 0xEE  # unknown opcode in the last instruction
    good.write_bytes(bytes(data))
    assert main(["disasm", str(good)]) == 1
    assert "instruction 22: unknown opcode 0xee" in capsys.readouterr().err


def test_installed_command_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.s"
    bad.write_text("halt 3\n")
    r = subprocess.run([sys.executable, "-m", "accel.cli", "asm", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "halt takes 0 operand(s)" in r.stderr


# --------------------------------------------------------------------------------------------- issue 11, section 4

def _npy_files(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.zeros((32, 128), np.float32))
    (tmp_path / "text.npy").write_text("1 2 3\n")
    (tmp_path / "empty.npy").write_bytes(b"")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "small.npy", np.zeros((3, 3), np.float32))
    np.save(tmp_path / "words.npy", np.full((32, 128), "a"))
    full = tmp_path / "full.npy"
    np.save(full, np.zeros((32, 128), np.float32))
    (tmp_path / "cut.npy").write_bytes(full.read_bytes()[:-4])
    (tmp_path / "bad.toml").write_bytes(b"[core]\npe_rows = 64 # caf\xe9\n")
    (tmp_path / "bogus.toml").write_text("[bogus]\npe_rows = 64\n")
    (tmp_path / "beside.toml").write_text("pe_cols = 64\n[core]\npe_rows = 64\n")
    (tmp_path / "five.toml").write_text("core = 5\n")
    (tmp_path / "small.toml").write_text('core = "small"\n')
    (tmp_path / "latin1.s").write_bytes(b"; caf\xe9\nhalt\n")
    (tmp_path / "outdir").mkdir()
    (tmp_path / "header.bin").write_bytes(accel_binary()[:16])


def accel_binary() -> bytes:
    import accel

    return accel.assemble_file(MLP).to_bytes()


TRUNCATED = ("accel: error: truncated tensor table: tensor 0 of 6 needs its name length at bytes 16..16, "
             "the file has 16 bytes")


@pytest.mark.parametrize(("argv", "line"), [
    (["asm", "latin1.s"], "latin1.s:1:6: error: byte 0xe9 is not UTF-8 text (source files are UTF-8)"),
    (["run", "latin1.s"], "latin1.s:1:6: error: byte 0xe9 is not UTF-8 text (source files are UTF-8)"),
    (["run", MLP, "--random-inputs", "--seed", "-1"], "accel: error: --seed -1: a seed is a non-negative integer"),
    (["run", MLP, "--random-inputs", "--out", "y=outdir"],
     "accel: error: --out y=outdir: is a directory; give a file name like outdir/y.npy"),
    (["run", MLP, "--random-inputs", "--out", "y=nofolder/y.npy"],
     "accel: error: --out y=nofolder/y.npy: folder nofolder does not exist"),
    (["run", MLP, "--random-inputs", "--in", "x=a.npz"],
     "accel: error: --in x=a.npz: an .npz archive, not a .npy file (give one array: np.save)"),
    (["run", MLP, "--random-inputs", "--in", "x=text.npy"],
     "accel: error: --in x=text.npy: not a .npy file (it does not start with the .npy magic \\x93NUMPY)"),
    (["run", MLP, "--random-inputs", "--in", "x=empty.npy"],
     "accel: error: --in x=empty.npy: the file is empty, not a .npy file"),
    (["run", MLP, "--random-inputs", "--in", "x=objects.npy"],
     "accel: error: --in x=objects.npy: holds Python objects, not numbers (a .npy of numbers is needed)"),
    (["run", MLP, "--random-inputs", "--in", "x=cut.npy"],
     "accel: error: --in x=cut.npy: its header promises float32[32, 128] (16,384 bytes) but 16,380 bytes "
     "of data follow"),
    (["run", MLP, "--random-inputs", "--in", "x=small.npy"],
     "accel: error: input x: shape (3, 3) given, the program declares (32, 128)"),
    (["run", MLP, "--random-inputs", "--in", "x=words.npy"],
     "accel: error: input x: bf16 tensor needs a numeric array, got <U1"),
    (["run", MLP, "--random-inputs", "--config", "bad.toml"],
     "accel: error: bad.toml:2: byte 0xe9 is not UTF-8 text (config files are UTF-8 TOML)"),
    (["run", MLP, "--random-inputs", "--config", "bogus.toml"], "accel: error: bogus.toml: unknown section [bogus]; "
     "a config file holds CoreConfig fields, at the top level or in one [core] table"),
    (["run", MLP, "--random-inputs", "--config", "beside.toml"],
     "accel: error: beside.toml: key 'pe_cols' beside the [core] table; put every CoreConfig field in [core]"),
    (["run", MLP, "--random-inputs", "--config", "five.toml"],
     "accel: error: five.toml: core = 5: expected a [core] table of CoreConfig fields"),
    (["run", MLP, "--random-inputs", "--config", "small.toml"],
     "accel: error: small.toml: core = 'small': expected a [core] table of CoreConfig fields"),
    (["disasm", "header.bin"], TRUNCATED),
    (["run", "header.bin"], TRUNCATED),
])
def test_bad_input_is_one_line(tmp_path, capsys, monkeypatch, argv, line):
    """Each of these was a traceback, a misleading message or a silent success before."""
    monkeypatch.chdir(tmp_path)
    _npy_files(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err == line + "\n", err


def test_out_writes_exactly_the_name_given(tmp_path, capsys, monkeypatch):
    """--out y=result used to report `result` and write `result.npy`."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", MLP, "--random-inputs", "--out", "y=result"]) == 0
    assert "output y: float32[32, 10] -> result" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]
    assert np.load(tmp_path / "result").shape == (32, 10)


@pytest.mark.parametrize("argv", [
    ["run", "missing.s", "--json"],
    ["run", "latin1.s", "--json"],
    ["run", MLP, "--json"],
    ["run", MLP, "--random-inputs", "--config", "bogus.toml", "--json"],
    ["run", "--json"],
    ["lut", "report", "--fn", "nope", "--json"],
])
def test_json_errors_are_json_on_stdout(tmp_path, capsys, monkeypatch, argv):
    """A script reading JSON gets {"error": ...} (plus the location of an assembly error); the
    readable message stays on stderr."""
    monkeypatch.chdir(tmp_path)
    _npy_files(tmp_path)
    code = main(argv)
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code in (1, 2) and report["error"] and report["error"] in captured.err
    assert "Traceback" not in captured.err
    if argv[1] == "latin1.s":
        assert (report["file"], report["line"], report["column"]) == ("latin1.s", 1, 6)


def test_demo_and_run_lay_out_stats_alike(capsys):
    assert main(["demo", "--json"]) == 0
    demo = json.loads(capsys.readouterr().out)
    assert main(["run", MLP, "--random-inputs", "--json"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert demo["stats"].keys() == run["stats"].keys()
    for key in ("instructions", "macs", "bytes_dram_to_sbuf", "pe_cycles"):
        assert demo["stats"][key] == run["stats"][key]


def test_run_checks_the_program_against_its_config(tmp_path, capsys):
    """The assembler checks against --config: a core with 4 semaphores has no s5."""
    src = tmp_path / "p.s"
    src.write_text("nop vec\nsem.signal vec, s5\n")
    cfg = tmp_path / "c.toml"
    cfg.write_text("semaphores = 4\n")
    assert main(["run", str(src)]) == 0
    capsys.readouterr()
    assert main(["run", str(src), "--config", str(cfg)]) == 1
    assert main(["asm", str(src), "--config", str(cfg)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{src}:2:17: error: semaphore s5 does not exist (s0..s3)"
    assert err[2].index("^") == err[1].index("s5")

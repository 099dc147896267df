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
        (["run", MLP, "--random-inputs", "--in", "x=nothere.npy"], "cannot read a .npy file"),
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

"""`accel verify UNIT` from the command line: summary lines, JSON, and readable errors."""

from __future__ import annotations

import json

import pytest

from accel.cli import main


def test_verify_decoder_json(sim: str, capsys):
    assert main(["verify", "decoder", "--sim", sim, "--vectors", "300", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["unit"] == "decoder" and rows[0]["sim"] == sim
    assert rows[0]["mismatches"] == 0 and rows[0]["vectors"] >= 300


@pytest.mark.parametrize("argv", [["verify", "nosuchunit"], ["verify"]])
def test_verify_bad_unit_is_one_line(argv: list[str], capsys):
    assert main(argv) != 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "units: act, act_engine, core, decoder" in out.out + out.err

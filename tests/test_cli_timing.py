"""The timing side of the `accel` command: run --timing-only/--trace/--plot, the timing in run's
report, `accel profile`, and their errors (one readable line, {"error"} under --json)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import Trace, TrackEvent

from accel.cli import main
from accel.config import CoreConfig
from accel.isa.asm import assemble_file
from accel.isa.spec import REPO_ROOT
from accel.timing.report import summary
from accel.timing.schedule import schedule
from accel.timing.timeline import SEMAPHORE

MLP = str(REPO_ROOT / "isa" / "examples" / "mlp.s")


@pytest.fixture(scope="module")
def mlp():
    tl = schedule(assemble_file(MLP), CoreConfig())
    return tl, summary(tl, instructions=True)


def test_timing_only_json_is_the_schedule_summary(capsys, mlp):
    assert main(["run", MLP, "--timing-only", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["timing"] == json.loads(json.dumps(mlp[1]))
    assert len(report["timing"]["instructions"]) == len(mlp[0]) == 22
    assert "stats" not in report and "outputs" not in report


def test_run_with_values_reports_timing_and_writes_trace_and_plot(tmp_path, capsys, mlp):
    trace, plot = tmp_path / "t.pftrace", tmp_path / "g.png"
    assert main(["run", MLP, "--random-inputs", "--json", "--trace", str(trace), "--plot", str(plot)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["timing"]["total_cycles"] == mlp[0].total > 0
    assert report["stats"]["macs"] == mlp[0].macs and (report["trace"], report["plot"]) == (str(trace), str(plot))
    assert plot.read_bytes()[:4] == b"\x89PNG"
    t = Trace()
    t.ParseFromString(trace.read_bytes())
    begins = [p.track_event for p in t.packet
              if p.HasField("track_event") and p.track_event.type == TrackEvent.Type.TYPE_SLICE_BEGIN]
    indices = sorted(a.int_value for e in begins if "source" in {a.name for a in e.debug_annotations}
                     for a in e.debug_annotations if a.name == "index")
    assert indices == list(range(22))  # one slice per instruction
    assert sum(len(e.flow_ids) for e in begins) == sum(len(e.terminating_flow_ids) for e in begins) \
        == mlp[0].released_by.size == 5


def test_run_text_and_json_trace(tmp_path, capsys):
    assert main(["run", MLP, "--random-inputs", "--trace", str(tmp_path / "t.json")]) == 0
    out = capsys.readouterr().out
    assert "cycles  " in out and "engines busy" in out and f"trace         {tmp_path / 't.json'}" in out
    events = json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    assert sum(1 for e in events if e["ph"] == "X" and "source" in e["args"]) == 22


def test_profile_tables(capsys, mlp):
    tl, s = mlp
    assert main(["profile", MLP, "--json", "--top", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["timing"]["engines"] == s["engines"]
    top = data["top_instructions"]
    spans = sorted((int(tl.end[i] - tl.start[i]) for i in range(len(tl))), reverse=True)
    assert [t["cycles"] for t in top] == spans[:3]  # every line of mlp.s is one instruction
    waits = [int(tl.start[i] - tl.head[i]) for i in range(len(tl)) if tl.head[i] < tl.start[i] and tl.reason[i]]
    assert [w["cycles"] for w in data["top_waits"]] == sorted(waits, reverse=True)[:3]
    first = data["top_waits"][0]
    i = next(i for i in range(len(tl)) if tl.program.instructions[i].where() == first["where"])
    assert tl.reason[i] == SEMAPHORE and first["waited_for"] == f"semaphore s{tl.program.instructions[i].ops['sem']}"
    assert first["released_by"] == [f"#{j} sem.signal ({tl.program.instructions[j].where()})" for j in tl.released(i)]

    assert main(["profile", MLP]) == 0
    text = capsys.readouterr().out
    for want in ("cycles", "bound: ", "PE ", "ACT ", "VEC ", "DMA ", "top instructions", "top waits",
                 "critical path", "utilization"):
        assert want in text


def test_profile_with_values(capsys):
    assert main(["profile", MLP, "--random-inputs", "--top", "1"]) == 0
    assert "top waits" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--trace", "t.txt"], "--trace t.txt: the file name must end in .pftrace, .json"),
    (["--plot", "g.bmpx"], "--plot g.bmpx: the file name must end in "),
    (["--plot", "no/such/dir/g.png"], "--plot no/such/dir/g.png: folder no/such/dir does not exist"),
    (["--timing-only", "--out", "y=y.npy", "--random-inputs"], "--timing-only computes no values: drop --out, "
                                                              "--random-inputs"),
])
def test_run_errors_are_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    for extra in ([], ["--json"]):
        assert main(["run", MLP, *args, *extra]) == 1
        out, err = capsys.readouterr()
        assert err.startswith(f"accel: error: {message}") and err.count("\n") == 1
        if extra:
            assert json.loads(out)["error"].startswith(message)
    assert not list(tmp_path.iterdir())  # nothing written


def test_profile_errors(tmp_path, capsys):
    assert main(["profile", MLP, "--top", "0"]) == 1
    assert capsys.readouterr().err == "accel: error: --top 0: at least 1\n"
    deadlock = tmp_path / "d.s"
    deadlock.write_text("    sem.wait pe, s0\n    halt\n")
    assert main(["profile", str(deadlock), "--json"]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("accel: error: deadlock") and "d.s:1" in err and "Traceback" not in err
    assert json.loads(out)["error"].startswith("deadlock")


def test_profile_of_a_program_without_waits(tmp_path, capsys):
    prog = tmp_path / "n.s"
    prog.write_text("    nop vec\n    halt\n")
    assert main(["profile", str(prog)]) == 0
    out = capsys.readouterr().out
    assert "top waits (cycles an engine stood at this instruction, held)\n  none" in out
    assert np.isclose(float(out.split("VEC")[1].split()[1].replace(",", "")), 1)


RACY = """
.tensor x fp32[4, 8] in
dma.load sb[0:4, 0]:fp32[8], x
vec.adds sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8], 1.0
halt
"""


@pytest.mark.parametrize("command", [["run", "--random-inputs"], ["run", "--timing-only"], ["profile"],
                                     ["profile", "--random-inputs"]])
def test_a_race_is_an_error_of_run_and_profile(tmp_path, capsys, command):
    prog = tmp_path / "racy.s"
    prog.write_text(RACY)
    assert main([command[0], str(prog), *command[1:]]) == 1
    err = capsys.readouterr().err
    assert err.startswith("accel: error: race on sb partitions 0..3 bytes 0..31: DMA dma.load dst (write) at "
                          f"{prog}:3") and err.endswith("--no-race-check runs it anyway)\n") and err.count("\n") == 1
    assert main([command[0], str(prog), *command[1:], "--no-race-check"]) == 0
    assert "race" not in capsys.readouterr().err


def test_an_uninitialised_read_is_a_warning(tmp_path, capsys):
    """Memory starts at zero, so the result does not depend on timing: exit 0, the read named on
    stderr and under "warnings"."""
    prog = tmp_path / "uninit.s"
    prog.write_text(RACY.replace("dma.load sb[0:4, 0]:fp32[8], x", "dma.load sb[0:4, 128]:fp32[8], x"))
    for command in (["run", "--random-inputs"], ["profile"]):
        assert main([command[0], str(prog), *command[1:], "--json"]) == 0
        out, err = capsys.readouterr()
        want = "uninitialised read of sb partitions 0..3 bytes 0..31: VEC vec.adds a (read) at"
        assert err.startswith(f"accel: warning: {want}") and err.count("\n") == 1
        assert len(json.loads(out)["warnings"]) == 1 and json.loads(out)["warnings"][0].startswith(want)
        assert main([command[0], str(prog), *command[1:], "--json", "--no-race-check"]) == 0
        out, err = capsys.readouterr()
        assert err == "" and json.loads(out)["warnings"] == []


def test_examples_and_cases_run_clean(capsys):
    """Every example and directed case passes `accel run`'s race checker: no race (the programs whose
    result could depend on timing); reads of bytes nothing wrote are warnings, counted here."""
    from accel.isa.resources import EXAMPLES_DIR

    paths = sorted(EXAMPLES_DIR.glob("*.s")) + sorted((REPO_ROOT / "tests" / "programs" / "cases").glob("*.s"))
    warned = []
    for path in paths:
        assert main(["run", str(path), "--timing-only", "--json"]) == 0, capsys.readouterr().err
        if json.loads(capsys.readouterr().out)["warnings"]:
            warned.append(path.name)
    assert len(paths) >= 40
    print(f"{len(paths)} programs run clean; uninitialised reads (warnings) in {len(warned)}: {', '.join(warned)}")


def test_demo_reports_the_timing(capsys):
    assert main(["demo", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    tl = schedule(assemble_file(MLP), CoreConfig())
    assert report["timing"] == json.loads(json.dumps(summary(tl)))
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert f"cycles        {tl.total:,}  (" in out and "engines busy  PE " in out

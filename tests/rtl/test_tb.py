"""The bench helpers: $readmemh files, the scoreboard, run_bench's caching and failure reports (on a
tiny counter bench with one passing and one failing test), where a user's bench caches its builds,
and the stream driver and monitor (on a tiny valid/ready block that returns pairs reversed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from accel.tb import files, memory_parameters, reference, rtl_modules, sources, verify
from accel.tb.memfile import format_memh, read_lanes, read_memh, write_fields, write_lanes, write_memh
from accel.tb.modules import REFERENCES
from accel.tb.runner import (
    RTL_DIR,
    SIM_DIR,
    VERILATOR_TOP_ONLY,
    BenchFailure,
    BenchResult,
    bench_cache_root,
    cache_root,
    default_build_args,
    run_bench,
    simulator_available,
)
from accel.tb.scoreboard import Scoreboard


def test_memfile_round_trips_any_width(tmp_path: Path) -> None:
    f = tmp_path / "m.hex"
    a = np.array([-128, -1, 0, 127], dtype=np.int8)
    assert write_memh(f, a) == 4
    assert f.read_text().split() == ["80", "ff", "00", "7f"]
    assert read_memh(f, 8, signed=True).tolist() == a.tolist()
    wide = [0, 1 << 511, (1 << 512) - 1, 0x1234]
    write_memh(f, wide, 512)
    back = read_memh(f, 512)
    assert back.dtype == object and back.tolist() == wide
    u64 = np.array([0, 2**64 - 1], dtype=np.uint64)
    write_memh(f, u64)
    assert read_memh(f, 64).tolist() == u64.tolist()
    with pytest.raises(ValueError, match="does not fit"):
        write_memh(f, [256], 8)


def test_memfile_lanes_and_fields(tmp_path: Path) -> None:
    """write_lanes / read_lanes agree, skip $writememh's address comments and flag x digits;
    write_fields puts columns side by side, the first leftmost."""
    words = np.array([[0xDEADBEEF, 0x00000001], [0xFFFFFFFF, 0x80000000]], dtype=np.uint64)
    path = tmp_path / "w.hex"
    assert write_lanes(path, words, 32) == 2
    assert path.read_text() == "00000001deadbeef\n80000000ffffffff\n"
    path.write_text("// 0x00000000\n" + path.read_text() + "@2\n0000000x00000000\n")
    got, undefined = read_lanes(path, 2, 32)
    assert got[:2].tolist() == words.tolist()
    assert undefined.tolist() == [False, False, True]
    write_fields(path, [np.array([1, 0xF]), np.array([0xABC, 5], dtype=np.uint64)], [1, 16])
    assert path.read_text() == "10000000000000abc\nf0000000000000005\n"


def test_memfile_header_and_vectorized_writes_match(tmp_path: Path) -> None:
    """The vectorized path (arrays up to 64 bits) writes what the Python-int path writes, after the
    header lines; the model's ROM images read back through the same reader."""
    a = np.array([0, 1, 0xFFFFFFFF, 0x3F800000], dtype=np.uint32)
    assert format_memh(a, 32, header=["// made by a test"]) == \
        b"// made by a test\n" + format_memh([int(v) for v in a], 32)
    assert format_memh(np.array([-1, 5], dtype=np.int64), 12) == b"fff\n005\n"
    with pytest.raises(ValueError, match="0x1000 does not fit 12 bits"):
        format_memh(np.array([4096], dtype=np.int64), 12)
    (tmp_path / "bad.hex").write_text("// fine\n12\nzz\n")
    with pytest.raises(ValueError, match=r"bad.hex:3: 'zz' is not a hex word"):
        read_memh(tmp_path / "bad.hex", 8)


def test_memfile_reads_comments_addresses_and_separators(tmp_path: Path) -> None:
    f = tmp_path / "m.hex"
    f.write_text("// header\n1_0 2 // two words\n@4\nff\n")
    assert read_memh(f, 8).tolist() == [0x10, 2, 0, 0, 0xFF]


def test_scoreboard_counts_and_reports() -> None:
    sb = Scoreboard(lambda x: {"y": x * 2, "ok": 1}, name="doubler", keep=1)
    assert sb.check(3, {"y": 6, "ok": 1})
    assert not sb.check(4, {"y": 9, "ok": 1}, context="cycle 7")
    assert not sb.check(5, {"y": 10, "ok": 0})
    sb.add_bulk(10)
    assert (sb.matches, sb.mismatches, len(sb.first)) == (11, 2, 1)
    with pytest.raises(AssertionError) as e:
        sb.finish()
    assert "doubler: 2 of 13 mismatched" in str(e.value)
    assert "(cycle 7) inputs 0x4" in str(e.value) and "y: got 0x9, expected 0x8" in str(e.value)


def test_scoreboard_compares_float_bits() -> None:
    sb = Scoreboard(lambda x: np.array([x, np.nan], dtype=np.float32))
    assert sb.check(0.0, np.array([0.0, np.nan], dtype=np.float32))
    assert not sb.check(0.0, np.array([-0.0, np.nan], dtype=np.float32))
    with pytest.raises(AssertionError, match=r"\[0\] got"):
        sb.finish()
    with pytest.raises(AssertionError, match="nothing checked"):
        Scoreboard(abs).finish()


def test_scoreboard_shows_fp_as_numbers_and_tuples_in_hex() -> None:
    sb = Scoreboard(lambda i: {"y": 0x3F800001, "pair": (1, 0xAB)}, name="fp",
                    formats={"x": "fp32", "y": "fp32", "h": "bf16"})
    assert not sb.check({"x": 0x40490FDB, "h": 0xBF80, "n": 10}, {"y": 0x3F800000, "pair": (1, 0xAC)})
    report = sb.report()
    assert "inputs {x: 3.1415927 (0x40490fdb), h: -1.0 (0xbf80), n: 0xa}" in report, report
    assert "y: got 1.0 (0x3f800000), expected 1.0000001 (0x3f800001)" in report, report
    assert "pair: got (0x1, 0xac), expected (0x1, 0xab)" in report, report
    nan = Scoreboard(lambda x: 0x7FC00000, formats={"": "fp32"})
    nan.check(0x7F800000, 0xFF800000)
    assert "got -inf (0xff800000), expected nan (0x7fc00000)" in nan.report()
    with pytest.raises(ValueError, match="unknown fp format"):
        Scoreboard(abs, formats={"y": "fp8"})


COUNTER_V = """`timescale 1ns/1ps
module counter #(parameter STEP = 1) (input wire clk, input wire rst, output reg [7:0] count);
`include "counter.vh"
    always @(posedge clk) count <= rst ? 8'd0 : count + STEP[7:0];
endmodule
"""
COUNTER_TEST = """import cocotb
from cocotb.triggers import FallingEdge

from accel.tb.clock import reset, start_clock

TOPLEVEL = "counter"


@cocotb.test()
async def counts(dut):
    start_clock(dut.clk)
    await reset(dut.clk, dut.rst)
    for _ in range(5):
        await FallingEdge(dut.clk)
    assert dut.count.value.to_unsigned() == 5


@cocotb.test()
async def wrong_on_purpose(dut):
    start_clock(dut.clk)
    await reset(dut.clk, dut.rst)
    await FallingEdge(dut.clk)
    assert dut.count.value.to_unsigned() == 7, "count is not 7"
"""


def _counter(folder: Path) -> tuple[list[Path], str, list[Path]]:
    """(sources, test module path, include folders) of a tiny counter bench."""
    (folder / "inc").mkdir(exist_ok=True)
    (folder / "inc" / "counter.vh").write_text("// nothing yet\n")
    (folder / "counter.v").write_text(COUNTER_V)
    (folder / "counter_bench.py").write_text(COUNTER_TEST)
    return [folder / "counter.v"], str(folder / "counter_bench.py"), [folder / "inc"]


def test_run_bench_names_failing_tests(sim: str, tmp_path: Path) -> None:
    sources, module, inc = _counter(tmp_path)
    result = run_bench(sim, "counter", sources, module, includes=inc, testcase="counts")
    assert (result.passed, result.failed) == (1, 0) and result.results_file.is_file()
    with pytest.raises(BenchFailure, match=r"1 of 2 tests failed:\n  wrong_on_purpose: .*not 7"):
        run_bench(sim, "counter", sources, module, includes=inc)


def test_a_stopped_simulator_is_a_bench_failure(tmp_path: Path) -> None:
    """A simulator killed mid-run (a crash, a user stopping a volume run): BenchFailure naming it, so
    a planned run still returns the report its bench wrote so far (accel.tb.plan.run_planned)."""
    if not simulator_available("icarus")[0]:
        pytest.skip("needs Icarus")
    sources, _, inc = _counter(tmp_path)
    (tmp_path / "killed_bench.py").write_text(
        "import os, signal\nimport cocotb\nfrom cocotb.triggers import Timer\n\n\n@cocotb.test()\n"
        "async def killed(dut):\n    await Timer(1, 'ns')\n    os.kill(os.getpid(), signal.SIGKILL)\n")
    with pytest.raises(BenchFailure, match="ended without results"):
        run_bench("icarus", "counter", sources, str(tmp_path / "killed_bench.py"), includes=inc)


def test_run_bench_builds_once_per_parameters_and_header(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if not simulator_available("icarus")[0]:
        pytest.skip("needs Icarus")
    monkeypatch.setenv("ACCEL_SIM_CACHE", str(tmp_path / "cache"))
    sources, module, inc = _counter(tmp_path)

    def run(**kw: object) -> BenchResult:
        return run_bench("icarus", "counter", sources, module, includes=inc, testcase="counts",
                         **kw)

    first = run()
    assert first.build_seconds > 0 and first.build_dir.is_relative_to(tmp_path / "cache")
    assert run().build_seconds == 0 and run().build_dir == first.build_dir
    with pytest.raises(BenchFailure):  # STEP = 2 counts to 10: a separate, correct build
        run(parameters={"STEP": 2})
    (inc[0] / "unrelated.vh").write_text("// a header counter.v does not include\n")
    assert run().build_seconds == 0
    (inc[0] / "counter.vh").write_text("// changed\n")
    assert run().build_dir != first.build_dir
    assert run(build_args=["-Wall"]).build_dir != first.build_dir  # build arguments are part of the key


def test_own_benches_keep_only_the_toplevel_public_on_verilator() -> None:
    # cocotb's runner makes every signal public, which made the core's Verilator build 8x slower
    assert default_build_args("verilator", "test_core") == VERILATOR_TOP_ONLY
    assert default_build_args("icarus", "test_core") == ()
    assert default_build_args("verilator", "test_my_top") == ()  # a user's bench: cocotb's default
    assert default_build_args("verilator", str(SIM_DIR / "test_core.py")) == VERILATOR_TOP_ONLY


FAKE_UNIT = """
def add_arguments(parser):
    parser.add_argument("--sim", default="ignored")   # common options stay main's
    parser.add_argument("--bad", type=int, default=0)

def run(args):
    return {"unit": "fake", "sim": args.sim, "vectors": 10, "mismatches": args.bad,
            "vectors_per_s": 5.0, "seconds": 2.0}
"""


def test_verify_main_lines_json_and_exit_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "fake_unit.py").write_text(FAKE_UNIT)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(verify.UNITS, "fake", "fake_unit")
    monkeypatch.setitem(verify.UNITS, "gone", "accel.tb.no_such_unit")
    monkeypatch.setattr(verify, "simulator_available",
                        lambda sim: (sim == "icarus", "" if sim == "icarus" else "not here"))
    assert verify.main(["fake", "--sim", "icarus"]) == 0
    assert capsys.readouterr().out.split() == \
        "fake icarus vectors=10 mismatches=0 vectors/s=5 seconds=2.0".split()
    assert verify.main(["fake", "--sim", "icarus", "--bad", "3", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)[0]["mismatches"] == 3
    assert verify.main(["fake"]) == 2  # verilator "missing": one line, no traceback
    assert capsys.readouterr().out.splitlines()[-1].split() == \
        ["fake", "verilator", "unavailable:", "not", "here"]
    assert verify.main(["gone"]) == 2 and "unavailable" in capsys.readouterr().out
    assert verify.main(["nonsense"]) == 2 and "unknown unit" in capsys.readouterr().err


PAIR_SWAP_V = """`timescale 1ns/1ps
// pair_swap: takes two (tag, data) items through valid/ready, then returns them reversed, data + 1.
module pair_swap (
    input  wire clk, input wire rst,
    input  wire in_valid, output wire in_ready, input wire [7:0] in_tag, input wire [15:0] in_data,
    output reg  out_valid, output reg [7:0] out_tag, output reg [15:0] out_data);
    reg [23:0] buf0, buf1;
    reg [1:0]  count;
    reg        emit;
    assign in_ready = !emit && count != 2'd2;
    always @(posedge clk) begin
        out_valid <= 1'b0;
        if (rst) begin
            count <= 2'd0;
            emit <= 1'b0;
        end else if (emit) begin
            out_valid <= 1'b1;
            if (count == 2'd2) begin
                out_tag <= buf1[23:16]; out_data <= buf1[15:0] + 16'd1; count <= 2'd1;
            end else begin
                out_tag <= buf0[23:16]; out_data <= buf0[15:0] + 16'd1; count <= 2'd0; emit <= 1'b0;
            end
        end else if (in_valid && in_ready) begin
            if (count == 2'd0) buf0 <= {in_tag, in_data}; else buf1 <= {in_tag, in_data};
            count <= count + 2'd1;
            if (count == 2'd1) emit <= 1'b1;
        end
    end
endmodule
"""
PAIR_SWAP_TEST = """import cocotb

from accel.tb import Scoreboard, StreamDriver, StreamMonitor, reset, start_clock

TOPLEVEL = "pair_swap"


def model(item):
    return {"tag": item["tag"], "data": (item["data"] + 1) & 0xFFFF}


async def play(dut, **pairing):
    start_clock(dut.clk)
    await reset(dut.clk, dut.rst)
    sb = Scoreboard(model, name="pair_swap")
    inputs = ({"tag": dut.in_tag, "data": dut.in_data}, dut.in_valid, dut.in_ready)
    mon = StreamMonitor(dut.clk, inputs, ({"tag": dut.out_tag, "data": dut.out_data}, dut.out_valid),
                        sb, **pairing)
    drv = StreamDriver(dut.clk, dut.in_valid, {"tag": dut.in_tag, "data": dut.in_data}, ready=dut.in_ready,
                       gaps=[0, 1, 0, 3, 0, 0, 2, 0])
    for k in range(8):
        drv.append({"tag": k, "data": 1000 * k})
    await drv.idle()
    return sb, mon


@cocotb.test()
async def pairs_by_tag(dut):
    sb, mon = await play(dut, tag="tag")
    await mon.drain(100)
    assert (sb.matches, sb.mismatches, mon.inputs_seen, mon.outputs_seen) == (8, 0, 8, 8), sb.report()


@cocotb.test()
async def in_order_pairing_sees_the_swap(dut):
    sb, mon = await play(dut)
    await mon.drain(100)
    assert (sb.matches, sb.mismatches) == (0, 8)
    assert "tag: got 0x1, expected 0x0" in sb.report(), sb.report()


@cocotb.test()
async def a_wrong_latency_is_an_error(dut):
    sb, mon = await play(dut, latency=2)
    try:
        await mon.drain(100)
    except AssertionError as e:
        assert "has no output 2 cycles later" in str(e), str(e)
    else:
        raise AssertionError("drain did not report the unpaired inputs")
"""


def test_stream_driver_and_monitor(sim: str, tmp_path: Path) -> None:
    """valid/ready with back-pressure and gaps; pairing by tag, in order and by latency."""
    (tmp_path / "pair_swap.v").write_text(PAIR_SWAP_V)
    (tmp_path / "pair_bench.py").write_text(PAIR_SWAP_TEST)
    result = run_bench(sim, "pair_swap", [tmp_path / "pair_swap.v"], str(tmp_path / "pair_bench.py"))
    assert (result.passed, result.failed) == (3, 0)


def test_a_users_bench_caches_in_its_own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ACCEL_SIM_CACHE, a bench whose test module lies outside accel builds into a
    .sim_cache beside that module, and accel's own benches into accel's cache."""
    monkeypatch.delenv("ACCEL_SIM_CACHE", raising=False)
    (tmp_path / "user_bench.py").write_text("")
    assert bench_cache_root("user_bench", [tmp_path, SIM_DIR]) == tmp_path.resolve() / ".sim_cache"
    assert bench_cache_root("test_fp", [SIM_DIR]) == cache_root()
    monkeypatch.chdir(tmp_path)
    assert bench_cache_root("no_such_module_here", []) == tmp_path.resolve() / ".sim_cache"
    monkeypatch.setenv("ACCEL_SIM_CACHE", str(tmp_path / "elsewhere"))
    assert bench_cache_root("user_bench", [tmp_path]) == (tmp_path / "elsewhere").resolve()


COMBINATIONAL = ["fp32_add", "fp32_mul", "fp32_fma", "fp32_minmax", "fp32_cmp", "fp32_to_bf16", "bf16_to_fp32",
                 "bf16_mul", "int32_to_fp32", "fp32_to_int", "dropout_threshold", "decoder"]


def test_sources_follow_instantiations() -> None:
    """sources() is the module's file and every file it instantiates, transitively; files() adds the
    headers it includes and the memory images it reads."""
    names = [p.name for p in sources("act_func")]
    assert names[0] == "act_func.v" and {"lut_mem.v", "lut_index.v", "fp32_fma.v", "fp_norm.v"} <= set(names)
    assert "lut_unit.v" not in names and len(names) == len(set(names))
    assert [p.name for p in files("act_func").memories] == ["lut_exp.hex"]
    assert [p.name for p in files("decoder").headers] == ["accel_isa.vh"]
    assert [p.name for p in sources("pe_mac")] == ["pe_mac.v", "bf16_mul.v", "fp32_add.v", "fp32_round.v",
                                                   "fp_norm.v"]
    assert {p.name for p in sources("fp_top")} == {p.name for p in Path(RTL_DIR / "fp").glob("*.v")} | {
        "fp_top.v", "mismatch_check.v", "mismatch_tally.v"}
    assert memory_parameters("act_func") == {"EXP_HEX": f'"{RTL_DIR / "mem" / "lut_exp.hex"}"'}
    with pytest.raises(KeyError, match="no RTL module 'nonesuch'"):
        sources("nonesuch")


def test_every_reference_names_a_module() -> None:
    assert set(REFERENCES) <= set(rtl_modules())
    with pytest.raises(KeyError, match="no reference model for RTL module 'fp_norm'; there is one for act_func"):
        reference("fp_norm")


@pytest.mark.parametrize("module", COMBINATIONAL)
def test_reference_matches_the_rtl(module: str) -> None:
    """Each combinational module's reference agrees with the RTL on random and special inputs (Icarus;
    the units' own benches check the same models on both simulators at volume)."""
    ok, why = simulator_available("icarus")
    if not ok:
        pytest.skip(f"icarus not available: {why}")
    result = run_bench("icarus", module, sources(module), "test_reference",
                       extra_env={"ACCEL_REF_MODULE": module, "ACCEL_REF_VECTORS": 200})
    assert result.passed == 1

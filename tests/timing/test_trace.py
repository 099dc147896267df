"""The trace writer: the .pftrace parses back with the perfetto package's own protobuf classes, the
.json with json, and both hold the hand-made timeline's tracks, slices, flows and counters."""

from __future__ import annotations

import json
from collections import defaultdict

import handmade
import numpy as np
import pytest
from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import Trace, TrackEvent

from accel.timing.timeline import DMA_QUEUE
from accel.timing.trace import BANDWIDTH, PSUM, write_trace

ROWS = ["PE", "ACT", "VEC", "DMA", "DMA queue 0", "DMA queue 1", "DMA queue 2", "DMA queue 3"]
# (track, name, start, end) of every instruction slice, by program index
INSTRUCTIONS = {
    0: ("DMA queue 0", "dma.load", 1, 66), 1: ("DMA queue 1", "dma.load", 2, 67),
    2: ("DMA", "sem.signal", 67, 68), 3: ("PE", "sem.wait", 68, 69), 4: ("PE", "pe.load_weights", 69, 73),
    5: ("PE", "pe.matmul", 73, 85), 6: ("PE lane 2", "pe.matmul", 81, 93), 7: ("PE", "sem.signal", 93, 94),
    8: ("ACT", "sem.wait", 95, 96), 9: ("ACT", "act.identity", 96, 130), 10: ("ACT", "sem.signal", 130, 131),
    11: ("DMA", "sem.wait", 132, 133), 12: ("DMA queue 0", "dma.store", 133, 199),
}
WAITS = {("PE", "wait semaphore", 4, 68, 3), ("ACT", "wait semaphore", 9, 95, 8),
         ("DMA", "wait semaphore", 68, 132, 11)}
DATA = {("DMA queue 0", "data", 65, 66, 0), ("DMA queue 1", "data", 66, 67, 1), ("DMA queue 0", "data", 197, 199, 12)}


def _check_nesting(slices: list[tuple]) -> None:
    """Slices of one track nest: none starts inside another and ends after it."""
    by_track = defaultdict(list)
    for s in slices:
        by_track[s[0]].append(s)
    for items in by_track.values():
        items.sort(key=lambda s: (s[2], -s[3]))
        open_ends: list[int] = []
        for _, _, start, end, _ in items:
            while open_ends and open_ends[-1] <= start:
                open_ends.pop()
            assert not open_ends or end <= open_ends[-1], items
            open_ends.append(end)


def read_pftrace(path) -> dict:
    """Tracks, slices (track, name, start, end, index), args by index, flows and counters."""
    trace = Trace()
    trace.ParseFromString(path.read_bytes())
    names, parents, units = {}, {}, {}
    for p in trace.packet:
        if p.HasField("track_descriptor"):
            d = p.track_descriptor
            names[d.uuid], parents[d.uuid] = d.name, d.parent_uuid
            if d.HasField("counter"):
                units[d.name] = d.counter.unit_name
    stacks, slices, args, counters = defaultdict(list), [], {}, defaultdict(list)
    out_flow, in_flow = {}, {}
    for p in trace.packet:
        if not p.HasField("track_event"):
            continue
        assert p.trusted_packet_sequence_id == 1
        e = p.track_event
        track = names[e.track_uuid]
        if e.type == TrackEvent.Type.TYPE_SLICE_BEGIN:
            a = {d.name: (d.string_value if d.HasField("string_value") else d.int_value) for d in e.debug_annotations}
            stacks[track].append((p.timestamp, e.name, a))
            for f in e.flow_ids:
                out_flow[f] = a["index"]
            for f in e.terminating_flow_ids:
                in_flow[f] = a["index"]
        elif e.type == TrackEvent.Type.TYPE_SLICE_END:
            ts, name, a = stacks[track].pop()
            slices.append((track, name, ts, p.timestamp, a.get("index")))
            if "source" in a:
                args[a["index"]] = a
        else:
            assert e.type == TrackEvent.Type.TYPE_COUNTER
            counters[track].append((p.timestamp, e.double_counter_value))
    assert not any(stacks.values()), "every slice ends"
    flows = {(out_flow[f], in_flow[f]) for f in out_flow}
    assert set(out_flow) == set(in_flow)
    return {"names": names, "parents": parents, "units": units, "slices": slices, "args": args,
            "flows": flows, "counters": dict(counters)}


def read_json(path) -> dict:
    """The same from a Chrome trace-event JSON file (ts in microseconds, one cycle = 1 ns)."""
    doc = json.loads(path.read_text())
    events = doc["traceEvents"]
    threads = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    cyc = lambda us: int(np.rint(us * 1000))  # noqa: E731
    slices, args, counters, flow_s, flow_f = [], {}, defaultdict(list), {}, {}
    last_on: dict[int, dict] = {}
    assert [e["ts"] for e in events if e["ph"] != "M"] == sorted(e["ts"] for e in events if e["ph"] != "M")
    for e in events:
        if e["ph"] == "X":
            start = cyc(e["ts"])
            slices.append((threads[e["tid"]], e["name"], start, start + cyc(e["dur"]), e["args"].get("index")))
            if "source" in e["args"]:
                args[e["args"]["index"]] = e["args"]
            last_on[e["tid"]] = e
        elif e["ph"] in "sf":  # bound to the slice just before it on its thread (same ts)
            s = last_on[e["tid"]]
            assert s["ts"] == e["ts"]
            (flow_s if e["ph"] == "s" else flow_f)[e["id"]] = s["args"]["index"]
            assert e["ph"] == "s" or e["bp"] == "e"
        elif e["ph"] == "C":
            ((unit, v),) = e["args"].items()
            counters[e["name"]].append((cyc(e["ts"]), v))
    assert set(flow_s) == set(flow_f)
    return {"threads": threads, "slices": slices, "args": args, "flows": {(flow_s[k], flow_f[k]) for k in flow_s},
            "counters": dict(counters)}


def _expected_slices() -> set:
    return {(t, n, s, e, i) for i, (t, n, s, e) in INSTRUCTIONS.items()} | WAITS | DATA


def test_pftrace_holds_tracks_slices_flows_and_counters(tmp_path):
    write_trace(handmade.timeline(), tmp_path / "t.pftrace")
    got = read_pftrace(tmp_path / "t.pftrace")
    names = got["names"]
    uuid = {v: k for k, v in names.items()}
    assert [n for n in names.values() if n in ROWS] == ROWS
    assert names[got["parents"][uuid["PE lane 2"]]] == "PE"
    assert all(names[got["parents"][uuid[f"DMA queue {q}"]]] == "DMA" for q in range(4))
    assert names[got["parents"][uuid["PE"]]] == "accel: t.s"
    assert set(got["slices"]) == _expected_slices() and len(got["slices"]) == len(_expected_slices())
    _check_nesting(got["slices"])
    assert got["flows"] == {(2, 3), (7, 8), (10, 11)}
    assert got["counters"][BANDWIDTH] == handmade.BANDWIDTH
    assert got["counters"][PSUM] == handmade.PSUM
    assert got["units"] == {BANDWIDTH: "bytes/cycle", PSUM: "banks"}
    a = got["args"][3]
    assert a["source"] == "sem.wait pe, s0" and a["where"] == f"t.s:{handmade.FIRST_LINE + 3}"
    assert a["waited_for"] == "semaphore s0, released by #2 sem.signal (t.s:6)" and a["blocker"] == 2
    assert (a["dispatch"], a["ready"], a["start"], a["end"], a["cycles"]) == (3, 4, 68, 69, 1)
    assert got["args"][12]["dram_bytes"] == 128 and got["args"][12]["dma_queue"] == 0
    assert got["args"][5]["psum_banks"] == "0" and got["args"][6]["psum_banks"] == "1"
    assert got["args"][0]["waited_for"] == "nothing"
    assert got["args"][4]["waited_for"] == "its engine, busy with #3 sem.wait (t.s:7)"


def test_json_holds_the_same(tmp_path):
    tl = handmade.timeline()
    write_trace(tl, tmp_path / "t.json")
    write_trace(tl, tmp_path / "t.pftrace")
    got, proto = read_json(tmp_path / "t.json"), read_pftrace(tmp_path / "t.pftrace")
    assert sorted(got["slices"], key=str) == sorted(proto["slices"], key=str)
    _check_nesting(got["slices"])
    assert got["args"] == proto["args"]
    assert got["flows"] == proto["flows"] == {(2, 3), (7, 8), (10, 11)}
    assert got["counters"] == proto["counters"]
    assert [got["threads"][k] for k in sorted(got["threads"])][:len(ROWS) + 1] == ROWS[:1] + ["PE lane 2"] + ROWS[1:]


def test_a_wait_released_by_two_signals_gets_two_arrows(tmp_path):
    tl = handmade.timeline()
    tl.released_ptr = np.array([0, 0, 0, 0, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4])  # #3 took units of #2 and of #10
    tl.released_by = np.array([2, 10, 7, 10])
    write_trace(tl, tmp_path / "t.pftrace")
    assert read_pftrace(tmp_path / "t.pftrace")["flows"] == {(2, 3), (10, 3), (7, 8), (10, 11)}


@pytest.mark.parametrize("name", ["t.perfetto", "t", "t.JSON"])
def test_other_suffixes_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match=r"\.pftrace \(Perfetto\) or \.json"):
        write_trace(handmade.timeline(), tmp_path / name)


def test_a_transfer_waiting_for_a_dma_queue_stalls_the_dma_engine_row(tmp_path):
    tl = handmade.timeline()
    tl.reason[1], tl.blocker[1], tl.head[1] = DMA_QUEUE, 0, 1  # #1 at the DMA queue's head from cycle 1
    write_trace(tl, tmp_path / "t.pftrace")
    got = read_pftrace(tmp_path / "t.pftrace")
    assert set(got["slices"]) == _expected_slices() | {("DMA", "wait DMA queue", 1, 2, 1)}
    assert got["args"][1]["waited_for"] == "a free DMA queue, released by #0 dma.load (t.s:4)"


def test_an_act_interlock_wait_is_a_slice_and_a_top_wait(tmp_path):
    """docs/timing.md's "ACT interlock" program: #4 stands at ACT's head from 83 to 105, held by #3."""
    from accel import CoreConfig, assemble
    from accel.cli.profile import top_waits
    from accel.timing import schedule

    src = """
.tensor x fp32[4, 8] in
dma.load sb[0:4, 0]:fp32[8], x
sem.signal dma, s0
sem.wait act, s0
act.identity sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8]
act.relu sb[0:4, 128]:fp32[8], sb[0:4, 64]:fp32[8]
"""
    config = CoreConfig(pe_rows=4, pe_cols=4, sbuf_partitions=4, psum_partitions=4)
    tl = schedule(assemble(src, "i.s", config=config), config)
    write_trace(tl, tmp_path / "t.pftrace")
    got = read_pftrace(tmp_path / "t.pftrace")
    assert ("ACT", "wait ACT interlock", 83, 105, 4) in got["slices"]
    assert got["args"][4]["waited_for"] == "the ACT pipeline to finish #3 act.identity (i.s:6)"
    assert [(w["waited_for"], w["cycles"], w["released_by"]) for w in top_waits(tl, 5)
            if w["engine"] == "ACT"][-1] == ("ACT interlock", 22, ["#3 act.identity (i.s:6)"])

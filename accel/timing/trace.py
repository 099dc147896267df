"""A timeline as a trace for ui.perfetto.dev: Perfetto protobuf (.pftrace) or Chrome trace-event JSON.

Both formats hold the same picture (accel.timing.tracks): one track per engine and per DMA queue
(plus a lane track under a row where its instructions overlap), one slice per instruction named
by its mnemonic with its source text, file:line, index, cycles and what it waited for as args, a
"wait ..." slice before an instruction for the cycles its engine stood idle on a semaphore or a
resource, a "data" slice inside each transfer for its DRAM-port phase, a flow arrow from each
sem.signal to every sem.wait that took its units, and two counter tracks: DRAM bandwidth (bytes
per cycle) and PSUM banks in use. Time base: one cycle is one nanosecond (Perfetto's timestamps
are nanoseconds; the JSON format's "ts" is in microseconds, so cycle c is ts = c / 1000).

The protobuf is written with the `perfetto` package's TraceProtoBuilder and its generated protos
(TrackDescriptor, TrackEvent), as docs/reference/synthetic-track-event in Perfetto's docs lays out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from accel.timing import tracks
from accel.timing.timeline import ENGINES, REASONS, Timeline

FORMATS = (".pftrace", ".json")
BANDWIDTH, PSUM = "DRAM bandwidth (bytes/cycle)", "PSUM banks in use"
_ROOT_UUID, _BANDWIDTH_UUID, _PSUM_UUID, _ROW_UUID = 1, 2, 3, 16
_WAIT_NAMES = {"semaphore": "wait semaphore", "psum_bank": "wait PSUM bank", "dma_queue": "wait DMA queue",
               "interlock": "wait ACT interlock"}


@dataclass
class _Track:
    uuid: int
    name: str
    parent: int  # uuid of the enclosing track
    rank: int  # display order among all tracks


@dataclass
class _Slice:
    ts: int
    dur: int
    track: int  # index into the track list
    name: str
    cat: str
    args: dict
    depth: int = 0  # 1 for a transfer's data phase inside it
    out: list[int] = field(default_factory=list)  # flow ids starting here (a sem.signal)
    into: list[int] = field(default_factory=list)  # flow ids ending here (a sem.wait)


def write_trace(timeline: Timeline, path: str | Path) -> None:
    """Write the timeline as a trace: .pftrace (Perfetto protobuf) or .json (Chrome trace events)."""
    p = Path(path)
    if p.suffix not in FORMATS:
        raise ValueError(f"{path}: a trace file ends in .pftrace (Perfetto) or .json (Chrome trace events)")
    program = timeline.program.source_name or "program"
    track_list, slices = _layout(timeline)
    counters = [(_BANDWIDTH_UUID, BANDWIDTH, "bytes/cycle", *tracks.dram_bandwidth(timeline)),
                (_PSUM_UUID, PSUM, "banks", *tracks.psum_banks_in_use(timeline))]
    if p.suffix == ".pftrace":
        p.write_bytes(_protobuf(program, track_list, slices, counters))
    else:
        with open(p, "w") as f:
            json.dump(_chrome_json(program, track_list, slices, counters), f, separators=(",", ":"))


def _layout(tl: Timeline) -> tuple[list[_Track], list[_Slice]]:
    """Tracks (a row, its extra lanes) and slices (waits, instructions, data phases) with flow ids."""
    track_list: list[_Track] = []
    slices: list[_Slice] = []
    of: dict[int, int] = {}  # program index -> its instruction slice
    for r in tracks.rows(tl):
        row_uuid = _ROW_UUID + len(track_list)
        parent = _ROW_UUID + _row_index(track_list, "DMA") if r.queue >= 0 else _ROOT_UUID
        base = len(track_list)
        track_list.append(_Track(row_uuid, r.name, parent, base))
        for lane in range(1, r.lanes):
            track_list.append(_Track(_ROW_UUID + len(track_list), f"{r.name} lane {lane + 1}", row_uuid,
                                     len(track_list)))
        lane_track = [base] + list(range(base + 1, base + r.lanes))
        for i, begin, start in zip(*tracks.waits(tl, r), strict=True):
            i = int(i)
            slices.append(_Slice(int(begin), int(start - begin), base, _WAIT_NAMES[REASONS[tl.reason[i]]],
                                 "wait", {"index": i, "waited_for": tracks.waited(tl, i)}))
        for i, lane in zip(r.index.tolist(), r.lane.tolist(), strict=True):
            ins = tl.program.instructions[i]
            of[i] = len(slices)
            t = lane_track[lane]
            start, end = int(tl.start[i]), int(tl.end[i])
            slices.append(_Slice(start, end - start, t, ins.mnemonic, ENGINES[tl.engine[i]], tracks.args(tl, i)))
            if r.queue >= 0 and tl.dram_bytes[i] > 0:
                data = int(tl.data_start[i])
                slices.append(_Slice(data, end - data, t, "data", "dram",
                                     {"index": i, "dram_bytes": int(tl.dram_bytes[i])}, depth=1))
    for k, (signal, wait) in enumerate(zip(*tracks.flows(tl), strict=True)):
        if int(signal) in of and int(wait) in of:
            slices[of[int(signal)]].out.append(k + 1)
            slices[of[int(wait)]].into.append(k + 1)
    return track_list, slices


def _row_index(track_list: list[_Track], name: str) -> int:
    return next(k for k, t in enumerate(track_list) if t.name == name)


def _protobuf(program: str, track_list: list[_Track], slices: list[_Slice], counters: list) -> bytes:
    from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import TrackDescriptor, TrackEvent
    from perfetto.trace_builder.proto_builder import TraceProtoBuilder

    builder = TraceProtoBuilder()

    def packet(ts: int | None = None):
        p = builder.add_packet()
        p.trusted_packet_sequence_id = 1
        if ts is not None:
            p.timestamp = ts
        return p

    explicit = TrackDescriptor.ChildTracksOrdering.EXPLICIT
    root = packet().track_descriptor
    root.uuid, root.name, root.child_ordering = _ROOT_UUID, f"accel: {program}", explicit
    for t in track_list:
        d = packet().track_descriptor
        d.uuid, d.parent_uuid, d.name, d.child_ordering, d.sibling_order_rank = (
            t.uuid, t.parent, t.name, explicit, t.rank)
    for rank, (uuid, name, unit, _, _) in enumerate(counters, start=len(track_list)):
        d = packet().track_descriptor
        d.uuid, d.parent_uuid, d.name, d.sibling_order_rank = uuid, _ROOT_UUID, name, rank
        d.counter.unit_name = unit

    # Begin and end events in time order; at one cycle an end comes before a begin (a slice ends
    # where the next starts), a data phase ends before its transfer and a transfer begins before it.
    events = [((s.ts, 1, s.depth), k) for k, s in enumerate(slices)]
    events += [((s.ts + s.dur, 0, -s.depth), ~k) for k, s in enumerate(slices)]
    events.sort(key=lambda e: e[0])
    for (ts, _, _), k in events:
        e = packet(ts).track_event
        s = slices[k if k >= 0 else ~k]
        e.track_uuid = track_list[s.track].uuid
        if k < 0:
            e.type = TrackEvent.Type.TYPE_SLICE_END
            continue
        e.type, e.name = TrackEvent.Type.TYPE_SLICE_BEGIN, s.name
        e.categories.append(s.cat)
        e.flow_ids.extend(s.out)
        e.terminating_flow_ids.extend(s.into)
        for key, value in s.args.items():
            a = e.debug_annotations.add()
            a.name = key
            if isinstance(value, int):
                a.int_value = value
            else:
                a.string_value = value
    for uuid, _, _, times, values in counters:
        for ts, v in zip(times.tolist(), values.tolist(), strict=True):
            e = packet(ts).track_event
            e.type, e.track_uuid, e.double_counter_value = TrackEvent.Type.TYPE_COUNTER, uuid, float(v)
    return builder.serialize()


def _us(cycle: int) -> float:
    """A cycle as the JSON format's microseconds (one cycle = 1 ns)."""
    return cycle / 1000


def _chrome_json(program: str, track_list: list[_Track], slices: list[_Slice], counters: list) -> dict:
    """The Chrome trace-event format: one process, one thread per track, complete ("X") slices,
    flow events ("s" on the sem.signal, "f" bound to the enclosing sem.wait) and counters ("C").
    Events are written in time order with a flow right after its slice, so a reader that keeps file
    order for equal timestamps binds every flow to its slice."""
    pid = 1
    meta: list[dict] = [{"ph": "M", "name": "process_name", "pid": pid, "args": {"name": f"accel: {program}"}}]
    for k, t in enumerate(track_list):
        meta.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": k + 1, "args": {"name": t.name}})
        meta.append({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": k + 1, "args": {"sort_index": k}})
    timed: list[tuple[int, int, dict]] = []
    for s in sorted(slices, key=lambda s: (s.ts, s.depth)):
        tid, ts = s.track + 1, _us(s.ts)
        timed.append((s.ts, s.depth, {"ph": "X", "name": s.name, "cat": s.cat, "pid": pid, "tid": tid, "ts": ts,
                                      "dur": _us(s.dur), "args": s.args}))
        for fid in s.out:
            timed.append((s.ts, s.depth, {"ph": "s", "name": "semaphore", "cat": "sem", "id": fid, "pid": pid,
                                          "tid": tid, "ts": ts}))
        for fid in s.into:
            timed.append((s.ts, s.depth, {"ph": "f", "bp": "e", "name": "semaphore", "cat": "sem", "id": fid,
                                          "pid": pid, "tid": tid, "ts": ts}))
    for _, name, unit, times, values in counters:
        for ts, v in zip(times.tolist(), values.tolist(), strict=True):
            timed.append((ts, 2, {"ph": "C", "name": name, "pid": pid, "ts": _us(ts), "args": {unit: v}}))
    timed.sort(key=lambda e: (e[0], e[1]))
    return {"traceEvents": meta + [e for _, _, e in timed],
            "otherData": {"program": program, "time_base": "1 cycle = 1 ns (ts in microseconds)"}}


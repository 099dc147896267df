"""rtl/core.v plays whole programs against accel.Core and accel.timing.schedule (sim/core_tb.v).

Two configurations: 4 partitions (a 4 x 4 PE array, sparse-capable, one PSUM bank) with the default timing
fields, and 8 partitions (8 x 8, dense only, two PSUM banks) with every timing field the core takes
changed (queue depth, dispatch and sync cycles, DMA queues, latency and beat). Each runs the directed
programs (DMA, sync, the PE array's overlap rules, PSUM-bank waits, the ACT engine with its interlocks and
PSUM banks; the sparse forms on the 4p core), the cases that fit and random DMA/PE/ACT/VEC pipelines; every final
DRAM/SBUF/PSUM byte and every instruction's start and end cycle must equal the model's. Six planted
faults (RTL parameters, not edits) must each be caught: a semaphore's units one cycle early, a DMA
partition stride off by one, a queue one entry deeper than the model's, a PSUM write a cycle late, a
PE matmul that ignores the PSUM bank a VEC instruction holds, a VEC instruction that ignores the PSUM bank
an ACT instruction holds.
"""

from __future__ import annotations

import pytest

from accel.tb import verify_core as vc

CONFIGS = {
    "4p": vc.config(4),
    "8p-timing": vc.config(8, queue_depth=4, dispatch_cycles=2, sync_cycles=2, dma_queues=2,
                           dma_latency_cycles=40, dma_bytes_per_cycle=32, psum_banks=2),
}
# 4p: the sparse-capable array (rtl/sparse_array.v, 16 lanes a row); 8p: the dense array alone (rtl/pe_array.v)
SPARSE = {"4p": True, "8p-timing": False}
RANDOM = {"icarus": 3, "verilator": 12}


@pytest.mark.rtl
@pytest.mark.parametrize("name", CONFIGS)
def test_core_matches_model(sim, name):
    cfg = CONFIGS[name]
    cases, skipped = vc.programs(cfg, RANDOM[sim], seed=21, sparse=SPARSE[name])
    names = [c.name for c in cases]
    directed = set(vc.DIRECTED) - (set() if SPARSE[name] else {"pe-sparse"})
    assert directed <= set(names) and sum(n.startswith("random") for n in names) == RANDOM[sim]
    acts = {i.mnemonic for c in cases for i in c.program.instructions if i.mnemonic.startswith("act.")}
    assert acts == {"act.identity", "act.relu", "act.func", "act.lut.load"}, skipped  # every ACT opcode runs
    assert sum(i.mnemonic == "pe.matmul" for c in cases for i in c.program.instructions) >= 10
    out = vc.bench(sim, cfg, cases, sparse=SPARSE[name])
    assert len(out["results"]) == len(cases), out["error"]
    bad = {r["name"]: r["mismatches"][:3] for r in out["results"] if r["mismatches"]}
    assert not bad, bad
    assert all(r["cycles"] > 0 for r in out["results"])


def _mutant_run(fault: int = 0, queue_depth: int | None = None, only: str | None = None) -> list[str]:
    cfg = CONFIGS["4p"]
    cases, _ = vc.programs(cfg, 1, seed=22, sparse=False)
    cases = [c for c in cases if (c.name in vc.DIRECTED or c.name.startswith("random")) and only in (None, c.name)]
    out = vc.bench("icarus", cfg, cases, fault=fault, queue_depth=queue_depth, sparse=False)
    return [m for r in out["results"] for m in r["mismatches"]]


@pytest.mark.rtl
@pytest.mark.parametrize("fault,queue_depth,only,kind", [
    (vc.FAULTS["sem_early"], None, None, "cycle: "),
    (vc.FAULTS["dma_stride"], None, None, "DRAM: "),
    (0, CONFIGS["4p"].queue_depth + 1, None, "cycle: "),
    (vc.FAULTS["psum_late"], None, "pe-overlap", "PSUM: "),  # its back-to-back accumulations read a stale word
    (vc.FAULTS["no_bank_wait"], None, "pe-overlap", "cycle: "),  # two of its matmuls wait for VEC's PSUM bank
    (vc.FAULTS["vec_ignores_act_bank"], None, "act", "cycle: "),  # its VEC copy waits for ACT's PSUM bank
], ids=["semaphore-one-cycle-early", "dma-stride-off-by-one", "queue-depth-off-by-one", "psum-write-one-cycle-late",
        "pe-ignores-psum-bank", "vec-ignores-act-psum-bank"])
def test_planted_faults_are_caught(icarus, fault, queue_depth, only, kind):
    found = _mutant_run(fault, queue_depth, only)
    assert any(m.startswith(kind) for m in found), found[:5]

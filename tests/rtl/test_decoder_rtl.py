"""rtl/decoder.v against the Python decoder, bit for bit, on every simulator."""

from __future__ import annotations

from accel.isa.encoding import SLOTS
from accel.tb import decoder_ref, verify_decoder
from accel.tb.rtlref import module_ports
from accel.tb.runner import RTL_DIR

VECTORS = {"icarus": 3_000, "verilator": 100_000}


def test_decoder_matches_python_decoder(sim: str) -> None:
    r = verify_decoder.bench(sim, VECTORS[sim], seed=1)
    assert r["error"] is None, r["error"]
    assert r["mismatches"] == 0
    assert r["vectors"] > VECTORS[sim]


def test_decoder_ports_follow_the_isa(pyverilog: None) -> None:
    """One output per slot field, with the field's width, in the reference's order."""
    ports = module_ports(RTL_DIR / "decoder.v")["ports"]
    outputs = [(p["name"], p["width"]) for p in ports if p["direction"] == "output"]
    assert outputs == decoder_ref.OUTPUTS
    signed = {f["name"].replace(".", "_") for s in SLOTS.values() for f in s["fields"]
              if f["signed"]}
    assert {p["name"] for p in ports if p["signed"]} == signed



"""Block diagram of rtl/core.v for docs/RTL.md: writes docs/figures/core.svg and core.png.

    python docs/figures/core_diagram.py [OUT_DIR]      # default: beside this script (`make gen` runs it)

The layout (BLOCKS, ARROWS) is written here by hand; the modules it must show are read from the RTL:
every module rtl/core.v instantiates and every module those instantiate (accel.tb.modules.instances).
The script stops with an error naming the module when a block names a module the RTL lacks or the RTL
has one no block names, so the picture cannot silently go stale (tests/test_figures.py runs it).
The SVG is deterministic (fixed ids, no date, text as text) and its first line says how it was made.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEM = "core"
COMMAND = "python docs/figures/core_diagram.py"

# colours by kind of block
FILL = {"core": "#f7f7f7", "front": "#dbe9f6", "queue": "#e4eefa", "sync": "#fde9c9", "pe": "#d9efd5",
        "act": "#f9dcdc", "vec": "#e6dcf3", "dma": "#fff3bf", "mem": "#e0e0e0", "ext": "#ffffff", "part": "#ffffff"}


@dataclass(frozen=True)
class Block:
    """A box: its title, its lines of text, the RTL modules it shows (each named as `name.v` in its
    text), its lower-left corner and size in figure units, and its kind (colour, border)."""

    title: str
    lines: tuple[str, ...]
    modules: tuple[str, ...]
    x: float
    y: float
    w: float
    h: float
    kind: str


def _b(title: str, lines: tuple[str, ...], modules: tuple[str, ...], xywh: tuple[float, float, float, float],
       kind: str) -> Block:
    return Block(title, lines, modules, *xywh, kind)


ENGINE_Y, ENGINE_H = 17.0, 22.0
BLOCKS: tuple[Block, ...] = (
    _b("core  (rtl/core.v)", (), ("core",), (1, 1, 100, 75), "core"),
    # front end
    _b("instruction memory", ("PROG_DEPTH x 512-bit words", "+ DRAM tensor table (256 bases)"), (),
       (4, 62, 22, 10), "front"),
    _b("decoder", ("decoder.v (generated from isa/)", "opcode, engine"), ("decoder",), (30, 62, 20, 10), "front"),
    _b("sequencer", ("in program order, one word per DISPATCH_CYCLES;", "a full queue stalls it;",
                     "stops at halt, nprog words or err"), (), (54, 62, 30, 10), "front"),
    # queues
    *(_b(f"{e} queue", ("core_queue.v", "QUEUE_DEPTH words; runs its", "sem.* / nop (SYNC_CYCLES)"),
         ("core_queue",), (4 + 24 * i, 49, 22, 9), "queue") for i, e in enumerate(("PE", "ACT", "VEC", "DMA"))),
    _b("semaphores", ("SEMAPHORES x 32-bit counters: a signal adds its units at its end, a wait takes them "
                      "at its start; waits in one cycle in the order PE, ACT, VEC, DMA",), (),
       (4, 41.5, 94, 5), "sync"),
    # engines
    _b("PE engine  (pe_engine.v)", (), ("pe_engine",), (3, ENGINE_Y, 24, ENGINE_H), "pe"),
    _b("array", ("pe_array.v  R x C (PE_SPARSE_M = 0)", "or sparse_array.v (PE_SPARSE_M = 16)"),
       ("pe_array", "sparse_array"), (4.5, 30, 21, 6), "part"),
    _b("SBUF walkers", ("ap_step.v chains: weights, moving data,", "indices; start rules of docs/pe_array.md"),
       ("ap_step",), (4.5, 24, 21, 5), "part"),
    _b("PSUM stage", ("write, or add: int32 / fp32_add.v",), ("fp32_add",), (4.5, 18, 21, 5), "part"),
    _b("ACT engine  (act_engine.v)", (), ("act_engine",), (28.5, ENGINE_Y, 24, ENGINE_H), "act"),
    _b("lanes", ("act_lane.v x PARTITIONS", "(act_func_core.v: func(x*scale+bias))"), ("act_lane",),
       (30, 30, 21, 6), "part"),
    _b("function-image memory", ("act_image_mem.v: built-ins 0..12,", "user slots 16..31 (act.lut.load)"),
       ("act_image_mem",), (30, 24, 21, 5), "part"),
    _b("walkers, ports, interlocks", ("vec_ap_walk.v (src, dst), lane_ports.v;", "RAW scoreboard, function switch"),
       ("vec_ap_walk", "lane_ports"), (30, 18, 21, 5), "part"),
    _b("VEC engine  (vec_engine.v)", (), ("vec_engine",), (54, ENGINE_Y, 24, ENGINE_H), "vec"),
    _b("lanes", ("vec_lane.v x PARTITIONS (simd_lane.v,", "rng_xoroshiro.v, rng_philox_iter.v)"),
       ("vec_lane",), (55.5, 30, 21, 6), "part"),
    _b("walkers, ports", ("vec_ap_walk.v x 3, lane_ports.v",), ("vec_ap_walk", "lane_ports"),
       (55.5, 25, 21, 4), "part"),
    _b("RNG seeding, dropout scale", ("splitmix64_seeder.v,", "dropout_scale.v"),
       ("splitmix64_seeder", "dropout_scale"), (55.5, 18, 21, 6), "part"),
    _b("DMA engine  (dma_engine.v)", (), ("dma_engine",), (79.5, ENGINE_Y, 20, ENGINE_H), "dma"),
    _b("transfers in flight", ("core_queue.v: DMA_QUEUES", "issued, FIFO data phases"), ("core_queue",),
       (81, 30, 17, 6), "part"),
    _b("mover", ("descriptors; DMA_LATENCY,", "then DMA_BEAT bytes a cycle;", "SBUF side: ap_step.v x DMA_BEAT"),
       ("ap_step",), (81, 18, 17, 11), "part"),
    # memories
    _b("SBUF", ("PARTITIONS x SB_BYTES bytes. Ports side by side, no arbiter (a race-free program never",
                "writes a byte from two ports in one cycle): PE reads (combinational), VEC and ACT a",
                "32-bit word per partition each (read data next cycle), DMA a beat of one partition, debug"),
       (), (3, 3.5, 57, 10), "mem"),
    _b("PSUM", ("PARTITIONS x PS_BYTES in PSUM_BANKS banks; ports: PE", "writes / accumulates, VEC, ACT, debug.",
                "Bank arbitration: an instruction holds its banks", "start to end; others wait (ties PE, ACT, VEC)"),
       (), (62, 3.5, 37.5, 10), "mem"),
    # outside the core
    _b("load port", ("ld_we, ld_sel, ld_addr, ld_data;", "nprog, run"), (), (4, 78.5, 22, 6.5), "ext"),
    _b("status", ("cycle, done, err, err_pc",), (), (30, 78.5, 20, 6.5), "ext"),
    _b("trace port", ("tr_start[4] (PE, ACT, VEC, DMA) + index,", "tr_end[8] (+ transfers, loads,",
                      "matmuls, ACT ends) + index"), (), (54, 78.5, 30, 6.5), "ext"),
    _b("DRAM (the bench)", ("beat port, not AXI:", "dram_rd_en, dram_rd_addr,", "dram_rdata (same cycle);",
                            "dram_wr_en, dram_wr_addr,", "dram_wr_len, dram_wr_data"), (),
       (104, 17, 19, 21), "ext"),
    _b("debug port", ("dbg_space, dbg_addr", "-> dbg_data (next cycle)"), (), (104, 3.5, 19, 10), "ext"),
)

# (from, to, label): block titles; the first block of that title
ARROWS: tuple[tuple[str, str, str], ...] = (
    ("load port", "instruction memory", ""),
    ("instruction memory", "decoder", "word at pc"),
    ("decoder", "sequencer", ""),
    *(("sequencer", f"{e} queue", "") for e in ("PE", "ACT", "VEC", "DMA")),
    ("PE queue", "PE engine  (pe_engine.v)", ""),
    ("ACT queue", "ACT engine  (act_engine.v)", ""),
    ("VEC queue", "VEC engine  (vec_engine.v)", ""),
    ("DMA queue", "DMA engine  (dma_engine.v)", ""),
    ("DMA engine  (dma_engine.v)", "DRAM (the bench)", ""),
    ("PSUM", "debug port", ""),
)


def required_modules() -> dict[str, str]:
    """Module -> who instantiates it: rtl/core.v's instances and theirs (one level down)."""
    from accel.tb.modules import instances

    out = {m: "core" for m in instances("core")}
    for engine in list(out):
        for m in instances(engine):
            out.setdefault(m, engine)
    return out


def check(blocks: tuple[Block, ...] = BLOCKS) -> list[str]:
    """Why the layout does not match the RTL (empty when it does)."""
    from accel.tb.modules import rtl_modules

    known, problems = set(rtl_modules()), []
    shown = {m for b in blocks for m in b.modules}
    for b in blocks:
        text = " ".join((b.title, *b.lines))
        for m in b.modules:
            if m not in known:
                problems.append(f"block {b.title!r} names module {m}, which no file under rtl/ defines")
            elif f"{m}.v" not in text:
                problems.append(f"block {b.title!r} shows module {m} but its text does not name {m}.v")
    for m, parent in sorted(required_modules().items()):
        if m not in shown:
            problems.append(f"rtl/{parent}.v instantiates {m}, which no block of the diagram shows")
    return problems


def _block(title: str) -> Block:
    return next(b for b in BLOCKS if b.title == title)


def _anchor(a: Block, b: Block) -> tuple[tuple[float, float], tuple[float, float]]:
    """Edge midpoints joining a to b: vertically when they overlap in x, else sideways."""
    ax, bx = a.x + a.w / 2, b.x + b.w / 2
    if a.x < b.x + b.w and b.x < a.x + a.w:
        x0 = max(a.x, b.x)
        x1 = min(a.x + a.w, b.x + b.w)
        x = (x0 + x1) / 2
        return ((x, a.y), (x, b.y + b.h)) if a.y > b.y else ((x, a.y + a.h), (x, b.y))
    if a.y < b.y + b.h and b.y < a.y + a.h:
        y = (max(a.y, b.y) + min(a.y + a.h, b.y + b.h)) / 2
        return ((a.x + a.w, y), (b.x, y)) if ax < bx else ((a.x, y), (b.x + b.w, y))
    return ((ax, a.y), (bx, b.y + b.h)) if a.y > b.y else ((ax, a.y + a.h), (bx, b.y))


def draw(out_dir: Path) -> list[Path]:
    """Render the diagram into out_dir/core.svg and core.png; returns their paths."""
    problems = check()
    if problems:
        raise SystemExit("core_diagram: the diagram does not match the RTL:\n  " + "\n  ".join(problems))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    plt.rcParams.update({"svg.hashsalt": "accel-core-diagram", "svg.fonttype": "none",
                         "font.family": "DejaVu Sans", "font.size": 7})
    fig = plt.figure(figsize=(16, 11))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 124)
    ax.set_ylim(0, 86)
    ax.axis("off")
    for b in BLOCKS:
        outside, whole = b.kind == "ext", b.kind == "core"
        ax.add_patch(FancyBboxPatch((b.x, b.y), b.w, b.h, boxstyle="round,pad=0,rounding_size=0.6",
                                    facecolor=FILL[b.kind], edgecolor="#555555" if not whole else "#222222",
                                    linewidth=1.6 if whole else 0.9, linestyle="--" if outside else "-",
                                    zorder=0 if whole else 1))
        top = b.y + b.h - (0.9 if b.lines else 1.3)
        title_size = 11 if whole else 8.5 if b.kind in ("pe", "act", "vec", "dma", "mem") else 7.5
        ax.text(b.x + (1.0 if whole or not b.lines or b.kind in ("pe", "act", "vec", "dma") else b.w / 2),
                top, b.title, ha="left" if whole or b.kind in ("pe", "act", "vec", "dma") else "center",
                va="top", fontsize=title_size, fontweight="bold", zorder=3)
        for k, line in enumerate(b.lines):
            ax.text(b.x + b.w / 2, top - 1.5 - 1.2 * k, line, ha="center", va="top", fontsize=6.5, zorder=3)
    for src, dst, label in ARROWS:
        (x0, y0), (x1, y1) = _anchor(_block(src), _block(dst))
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=9, linewidth=0.9,
                                     color="#333333", zorder=2))
        if label:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.5, label, ha="center", va="bottom", fontsize=6, zorder=3)
    bus = 15.2  # every engine's SBUF / PSUM ports: a bus between the engines and the memories
    ax.plot([8, 95], [bus, bus], color="#555555", linewidth=1.2, zorder=1)
    for b in BLOCKS:
        if b.kind in ("pe", "act", "vec", "dma"):
            ax.add_patch(FancyArrowPatch((b.x + b.w / 2, b.y), (b.x + b.w / 2, bus), arrowstyle="<|-|>",
                                         mutation_scale=7, linewidth=0.8, color="#333333", zorder=2))
    for title in ("SBUF", "PSUM"):
        b = _block(title)
        ax.add_patch(FancyArrowPatch((b.x + b.w / 2, bus), (b.x + b.w / 2, b.y + b.h), arrowstyle="<|-|>",
                                     mutation_scale=7, linewidth=0.8, color="#333333", zorder=2))
    ax.text(51.5, bus + 0.4, "SBUF / PSUM ports: PE, ACT, VEC to both; DMA to SBUF", ha="center", va="bottom",
            fontsize=6, style="italic", zorder=3)
    ax.text(123, 0.4, "dashed: outside the core (its ports; the bench provides DRAM)", ha="right", va="bottom",
            fontsize=6, style="italic")
    out_dir.mkdir(parents=True, exist_ok=True)
    svg, png = out_dir / f"{STEM}.svg", out_dir / f"{STEM}.png"
    note = (f"GENERATED by {COMMAND} from its layout and rtl/core.v's instances "
            f"(matplotlib {matplotlib.__version__}); do not edit.")
    fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None, "Description": note})
    fig.savefig(png, format="png", dpi=110, metadata={"Software": None, "Description": note})
    plt.close(fig)
    text = svg.read_text()
    first, rest = text.split("\n", 1)
    if first.startswith("<?xml"):  # a comment may not come before the XML declaration: drop it (UTF-8)
        text = rest
    svg.write_text(f"<!-- {note} -->\n{text}")
    return [svg, png]


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else HERE
    for path in draw(out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

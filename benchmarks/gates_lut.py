"""Yosys generic gate count of the function unit rtl/act_func.v next to one PE (opt-in: needs `yosys` on PATH).

    python benchmarks/gates_lut.py

The unit is synthesized with `synth -flatten -noshare -top act_func; stat` (Yosys' generic cell library,
no technology mapping; -noshare skips the SAT-based sharing of exclusive operators, which did not finish in
8 minutes on the unit's 22 floating-point blocks; one PE is synthesized the same way) with its table
memories (rtl/lut_mem.v: the image RAM and the exp ROM) replaced by black boxes, so the cells are the
datapath's: pipeline registers, the rtl/fp blocks, the index rule, the image-header registers and checks.
The memories are reported in bits. Results are recorded in docs/act.md.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

from gates_rng import RTL, cells, print_row  # run as a script: benchmarks/ is on sys.path

FP = [f"fp/{p.name}" for p in sorted((RTL / "fp").glob("*.v"))]
UNIT = ["lut_index.v", "act_func.v", *FP]
PE = ["pe.v", "pe_mac.v", *FP]
WORDS_LOG2, EXP_WORDS_LOG2, EXP_WORDS_USED = 14, 9, 376  # act_func's defaults; lut_exp.hex's image size


def blackbox(module_file: Path, folder: Path) -> Path:
    """A copy of a module's header (parameters and ports, up to the first line that starts with `);`, so a
    `);` in a comment does not end it) marked (* blackbox *)."""
    text = module_file.read_text()
    start = re.search(r"^module ", text, re.M).start()
    end = re.compile(r"^\s*\);", re.M).search(text, start).end()
    stub = folder / f"{module_file.stem}_blackbox.v"
    stub.write_text("(* blackbox *)\n" + text[start:end] + "\nendmodule\n")
    return stub


def main() -> int:
    if shutil.which("yosys") is None:
        print("yosys is not installed (apt-get install -y yosys)", file=sys.stderr)
        return 2
    print("| block | what | cells | flip-flops | other cells |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        stub = blackbox(RTL / "lut_mem.v", Path(tmp))
        rows = [("act_func", UNIT, [stub], "function unit datapath, memories excluded (22-stage pipeline)"),
                ("pe", PE, [], "one PE of the array")]
        for top, files, extra, what in rows:
            print_row(top, what, cells(top, files, extra=extra, share=False))
    ram, rom = (1 << WORDS_LOG2) * 32, (1 << EXP_WORDS_LOG2) * 32
    print(f"\nmemories: image RAM {1 << WORDS_LOG2} x 32 = {ram} bits; exp ROM {1 << EXP_WORDS_LOG2} x 32 = {rom} bits "
          f"({EXP_WORDS_USED * 32} used); each with a 9-word row read")
    return 0


if __name__ == "__main__":
    sys.exit(main())

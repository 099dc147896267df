"""Where accel's data files live: the ISA data (isa/), the RTL with its generated headers and
function tables (rtl/, rtl/include/, rtl/mem/), the cocotb benches (sim/), and the per-opcode
programs of tests/programs/cases/ that `accel verify vec` plays.

The folders isa/, rtl/, sim/ (and tests/) of a source checkout are the single source of truth.
From a checkout (also an editable install, `pip install -e .`) every path below points into it.
A built wheel carries a copy of what the runtime needs of them (setup.py: DATA_FILES) as
package data under `accel/_data/`; when the package does not lie in a checkout, the paths
point there.

This module imports nothing from accel, so every layer may use it (it sits in accel.isa, the
bottom layer).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the accel package folder
PACKAGED_DATA = PACKAGE_DIR / "_data"  # the copy a wheel carries (setup.py: DATA_DIRS)


def _checkout() -> Path | None:
    """The source checkout the package is imported from, or None (an installed wheel)."""
    root = PACKAGE_DIR.parent
    markers = (root / "setup.cfg", root / "isa" / "isa.toml", root / "rtl", root / "sim")
    return root if all(p.exists() for p in markers) else None


CHECKOUT: Path | None = _checkout()
DATA_ROOT: Path = CHECKOUT or PACKAGED_DATA  # holds isa/, rtl/ and sim/

ISA_DIR = DATA_ROOT / "isa"
ISA_TOML = ISA_DIR / "isa.toml"
ISA_MANUAL = ISA_DIR / "ISA.md"
EXAMPLES_DIR = ISA_DIR / "examples"
RTL_DIR = DATA_ROOT / "rtl"
INCLUDE_DIR = RTL_DIR / "include"
MEM_DIR = RTL_DIR / "mem"
SIM_DIR = DATA_ROOT / "sim"
CASES_DIR = DATA_ROOT / "tests" / "programs" / "cases"  # per-opcode programs; a wheel has the vec.*.s


class NotACheckoutError(RuntimeError):
    """An action that writes source files (generators) was asked for outside a source checkout."""


def checkout(action: str) -> Path:
    """The checkout's root, for `action` (e.g. "accel isa gen") that writes into the sources;
    raises NotACheckoutError with a one-line reason when accel runs from an installed wheel."""
    if CHECKOUT is None:
        raise NotACheckoutError(
            f"{action} writes into a source checkout, but accel is installed at {PACKAGE_DIR} "
            "(its isa/, rtl/ and sim/ are a read-only copy); run it in a clone of the repository")
    return CHECKOUT

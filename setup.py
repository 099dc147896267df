"""Build step that puts the checkout's data folders into the wheel (metadata lives in setup.cfg).

isa/, rtl/ and sim/ stay at the top of the checkout (the single source of truth). A built
package gets a copy of the files the runtime needs (DATA_FILES) under accel/_data/, where
accel.isa.resources finds them when the package is not imported from a checkout. An editable
install reads the checkout itself, so nothing is copied then. MANIFEST.in puts the same
folders into the sdist, so a wheel built from the sdist carries them too.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA_TARGET = Path("accel") / "_data"
# What a wheel carries, per folder: the ISA data and examples, the RTL with its generated header
# and function tables, the cocotb benches and their Verilog wrappers, and the per-opcode VEC
# programs that `accel verify vec` plays (accel.isa.resources.CASES_DIR).
DATA_FILES = {
    "isa": ("isa.toml", "ISA.md", "examples/*.s"),
    "rtl": ("**/*.v", "include/*.vh", "mem/*.hex"),
    "sim": ("*.v", "*.py"),
    "tests/programs/cases": ("vec.*.s",),
}


def data_files(root: Path = HERE) -> list[Path]:
    """The data files (relative to `root`) that the wheel carries; fails if a folder is missing."""
    out: set[Path] = set()
    for folder, patterns in DATA_FILES.items():
        if not (root / folder).is_dir():
            raise SystemExit(f"setup.py: {root / folder} is missing: the package cannot be built without it")
        for pattern in patterns:
            out |= {p.relative_to(root) for p in (root / folder).glob(pattern) if p.is_file()}
    return sorted(out)


class build_py_with_data(build_py):  # noqa: N801 (setuptools command naming)
    """build_py, then copy isa/, rtl/ and sim/ into build_lib/accel/_data/ (not for editable installs)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for rel in data_files():
            dest = Path(self.build_lib) / DATA_TARGET / rel
            self.mkpath(str(dest.parent))
            self.copy_file(str(HERE / rel), str(dest))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not self.editable_mode:
            outputs += [str(Path(self.build_lib) / DATA_TARGET / rel) for rel in data_files()]
        return outputs


setup(cmdclass={"build_py": build_py_with_data})

"""The `accel` command: asm, disasm, compile, run, profile, isa, verify, sparsify, lut, sweep, demo.

Every expected failure (bad assembly, bad binary, bad config, bad input file, a faulting
program) prints a readable message and exits non-zero, never a traceback. A command run with
--json prints {"error": "..."} on stdout as well, so a script reading JSON always gets an object.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

EXIT_USAGE, EXIT_ERROR = 2, 1


class CliError(Exception):
    """A user-facing error: printed as `accel: error: ...`."""


class UsageError(Exception):
    """A command line argparse rejects; main() prints usage and exits 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting, so main() can answer --json too."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.format_usage()}{self.prog}: error: {message}")


def _read_file(path: str, what: str = "") -> bytes:
    """A file's bytes; CliError naming it if it is missing, a directory or unreadable."""
    p = Path(path)
    if p.is_dir():
        raise CliError(f"{what}{path}: is a directory, not a file")
    if not p.exists():
        raise CliError(f"{what}{path}: no such file")
    return p.read_bytes()


def _load_program(path: str, config: Any = None):
    """A binary (starts with ACCL) or UTF-8 assembly source, checked against `config`."""
    from accel.isa.asm import assemble
    from accel.isa.encoding import MAGIC, Program

    data = _read_file(path)
    if data[:4] == MAGIC:
        return Program.from_bytes(data, config)
    return assemble(data, path, config)


def _config(args: argparse.Namespace):
    from accel.machine import CoreConfig

    return CoreConfig.from_toml(args.config) if getattr(args, "config", None) else CoreConfig()


def read_npy(path: str, what: str) -> np.ndarray:
    """One array from a .npy file; CliError with one line for anything that is not a .npy of numbers
    (missing, empty, an .npz archive, text, a pickled object array, truncated)."""
    data = _read_file(path, what)
    if not data:
        raise CliError(f"{what}{path}: the file is empty, not a .npy file")
    if data[:4] == b"PK\x03\x04":
        raise CliError(f"{what}{path}: an .npz archive, not a .npy file (give one array: np.save)")
    if data[:6] != b"\x93NUMPY":
        raise CliError(f"{what}{path}: not a .npy file (it does not start with the .npy magic \\x93NUMPY)")
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in read_header:
                raise CliError(f"{what}{path}: .npy format version {version[0]}.{version[1]}, this reads 1.0 and 2.0")
            shape, _, dtype = read_header[version](f)
            if dtype.hasobject:
                raise CliError(f"{what}{path}: holds Python objects, not numbers (a .npy of numbers is needed)")
            need, have = math.prod(shape) * dtype.itemsize, len(data) - f.tell()
            if need != have:  # checked before numpy allocates what the header promises
                raise CliError(f"{what}{path}: its header promises {dtype}{list(shape)} ({need:,} bytes) but "
                               f"{have:,} bytes of data follow")
            f.seek(0)
            return np.load(f, allow_pickle=False)
    except CliError:
        raise
    except Exception as e:  # numpy's header parser on a corrupt header: ValueError, SyntaxError, TokenError, ...
        raise CliError(f"{what}{path}: not a valid .npy file ({type(e).__name__}: {e})") from None


def _pairs(items: list[str] | None, flag: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise CliError(f"{flag} {item!r}: expected NAME=file.npy")
        out[name] = file
    return out


def cmd_asm(args: argparse.Namespace) -> int:
    prog = _load_program(args.source, _config(args))
    out = Path(args.output or Path(args.source).with_suffix(".bin"))
    out.write_bytes(prog.to_bytes())
    print(f"{args.source}: {len(prog.instructions)} instructions, {len(prog.tensors)} tensors -> {out} "
          f"({out.stat().st_size} bytes)")
    return 0


def cmd_disasm(args: argparse.Namespace) -> int:
    from accel.isa.disasm import disassemble

    data = _read_file(args.binary)
    sys.stdout.write(disassemble(data, addresses=args.addresses, config=_config(args)))
    return 0


def _random_inputs(prog, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for t in prog.tensors:
        if t.role not in ("in", "inout"):
            continue
        if t.dtype in ("int8", "int32"):
            out[t.name] = rng.integers(-128, 128, size=t.shape, dtype=np.int32)
        else:
            out[t.name] = rng.standard_normal(t.shape).astype(np.float32)
    return out


def _check_out_path(name: str, file: str) -> None:
    """--out NAME=FILE writes exactly FILE (no suffix added): it must not be a directory, and its
    folder must exist; checked before the run."""
    p = Path(file)
    if p.is_dir():
        raise CliError(f"--out {name}={file}: is a directory; give a file name like {p / (name + '.npy')}")
    if not p.parent.is_dir():
        raise CliError(f"--out {name}={file}: folder {p.parent} does not exist")


def _inputs(args: argparse.Namespace, prog) -> dict[str, Any]:
    """The run's inputs: --random-inputs (seeded), then each --in NAME=FILE.npy over them."""
    if args.seed < 0:
        raise CliError(f"--seed {args.seed}: a seed is a non-negative integer")
    inputs: dict[str, Any] = _random_inputs(prog, args.seed) if args.random_inputs else {}
    for name, file in _pairs(args.inputs, "--in").items():
        inputs[name] = read_npy(file, f"--in {name}=")
    return inputs


def _timing_outputs_checked(args: argparse.Namespace) -> None:
    from accel.cli.profile import TimingOutputError, check_timing_outputs

    try:
        check_timing_outputs(args)
    except TimingOutputError as e:
        raise CliError(str(e)) from None


_WARNINGS_SHOWN = 5  # uninitialised reads printed on stderr (--json lists them all)


def _timed(args: argparse.Namespace, prog, config,
           instructions: bool) -> tuple[Any, dict[str, Any], dict[str, str], list[str]]:
    """The program's timeline, its summary, the --trace/--plot files written from them, and the race
    checker's warnings (unless --no-race-check): a race is an error, since the result depends on
    timing; a read of bytes nothing wrote is a warning on stderr, since the result does not (memory
    starts at zero) but the program probably meant to write them."""
    from accel.cli.profile import write_timing_outputs
    from accel.timing.race import RACE, check_races
    from accel.timing.report import summary
    from accel.timing.schedule import schedule

    timeline = schedule(prog, config)
    timing = summary(timeline, instructions=instructions)
    written = write_timing_outputs(args, timeline, timing)  # the trace and chart show where the race is
    if not args.race_check:
        return timeline, timing, written, []
    found = check_races(timeline, limit=None)
    races = [r for r in found if r.kind == RACE]
    if races:
        more = f" (and {len(races) - 1} more)" if len(races) > 1 else ""
        raise CliError(f"{races[0]}{more}; the result depends on timing (docs/race_checker.md; "
                       "--no-race-check runs it anyway)")
    warnings = [str(r) for r in found]
    for w in warnings[:_WARNINGS_SHOWN]:
        print(f"accel: warning: {w}", file=sys.stderr)
    if len(warnings) > _WARNINGS_SHOWN:
        print(f"accel: warning: ... and {len(warnings) - _WARNINGS_SHOWN} more uninitialised reads", file=sys.stderr)
    return timeline, timing, written, warnings


def cmd_run(args: argparse.Namespace) -> int:
    from accel.cli.compile import is_model, run_model
    from accel.cli.report import cost_dict, format_stats, format_timing, stats_dict
    from accel.machine import Core

    config = _config(args)
    if is_model(args.program):
        return run_model(args, config)
    prog = _load_program(args.program, config)
    _timing_outputs_checked(args)
    if args.timing_only:
        given = [f for f, v in (("--in", args.inputs), ("--out", args.outputs), ("--random-inputs", args.random_inputs))
                 if v]
        if given:
            raise CliError(f"--timing-only computes no values: drop {', '.join(given)}")
        timeline, timing, written, warnings = _timed(args, prog, config, instructions=args.json)
        if args.json:
            print(json.dumps({"program": args.program, "timing": timing, **cost_dict([timeline], config),
                              "warnings": warnings, **written}, indent=2))
        else:
            print(format_timing(timing))
            for what, file in written.items():
                print(f"{what:<14}{file}")
        return 0
    inputs = _inputs(args, prog)
    outs = _pairs(args.outputs, "--out")
    out_names = [t.name for t in prog.tensors if t.role in ("out", "inout")]
    for name, file in outs.items():
        if name not in out_names:
            raise CliError(f"--out {name}: not an output tensor (outputs: {', '.join(out_names) or 'none'})")
        _check_out_path(name, file)
    timeline, timing, written, warnings = _timed(args, prog, config, instructions=args.json)  # before the values
    result = Core(config).run(prog, inputs, timing=False)
    for name, file in outs.items():
        with open(file, "wb") as f:  # exactly the name given (np.save on a name would append .npy)
            np.save(f, result.outputs[name])
    if args.json:
        report = {
            "program": args.program,
            "stats": stats_dict(result.stats),
            "timing": timing,
            **cost_dict([timeline], config),
            "outputs": {k: {"shape": list(v.shape), "dtype": str(v.dtype), "file": outs.get(k)}
                        for k, v in result.outputs.items()},
            "warnings": warnings,
            **written,
        }
        print(json.dumps(report, indent=2))
    else:
        print(format_stats(result.stats))
        print(format_timing(timing))
        for k, v in result.outputs.items():
            where = f" -> {outs[k]}" if k in outs else ""
            print(f"output {k}: {v.dtype}{list(v.shape)}{where}")
        for what, file in written.items():
            print(f"{what:<14}{file}")
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    """`accel profile`: the timing tables; with --in/--random-inputs the values run as well, so a
    program that faults on them is an error."""
    from accel.cli.profile import format_profile, profile
    from accel.machine import Core

    if args.top < 1:
        raise CliError(f"--top {args.top}: at least 1")
    config = _config(args)
    prog = _load_program(args.program, config)
    _timing_outputs_checked(args)
    if args.inputs or args.random_inputs:
        Core(config).run(prog, _inputs(args, prog))
    timeline, timing, written, warnings = _timed(args, prog, config, instructions=False)
    data = profile(timeline, timing, args.top)
    if args.json:
        print(json.dumps({"program": args.program, **data, "warnings": warnings, **written}, indent=2))
    else:
        print(format_profile(data, args.program))
        for what, file in written.items():
            print(f"{what:<14}{file}")
    return 0


def cmd_isa(args: argparse.Namespace) -> int:
    """`accel isa`: where the manual and the ISA source are, and the instruction list;
    `accel isa gen` regenerates the derived files, which only a source checkout can take."""
    from accel.isa import gen, resources

    if args.action == "gen":
        try:
            root = resources.checkout("accel isa gen")
        except resources.NotACheckoutError as e:
            raise CliError(str(e)) from None
        for p in gen.generate(root):
            print(f"wrote {p.relative_to(root)}")
        return 0
    from accel.isa._table import TABLE

    print(f"manual: {resources.ISA_MANUAL}")
    hint = "regenerate derived files with `accel isa gen`" if resources.CHECKOUT else "installed copy; read-only"
    print(f"source: {resources.ISA_TOML}  ({hint})")
    print(f"{len(TABLE['instructions'])} instructions, {TABLE['word_bits']}-bit words:")
    for i in TABLE["instructions"]:
        print(f"  {i['opcode']:#04x}  {i['mnemonic']:<16} {i['engine']:<4} {i['summary']}")
    return 0


def cmd_verify(args: argparse.Namespace, rest: list[str]) -> int:
    try:
        from accel.tb.verify import main as verify_main
    except ImportError as e:
        raise CliError(f"RTL verification needs the rtl extra: pip install -e '.[rtl]' ({e})") from None
    return verify_main(rest)


def cmd_sparsify(args: argparse.Namespace) -> int:
    from accel.cli.sparsify import sparsify_main

    try:
        return sparsify_main(args)
    except (ValueError, OSError) as e:
        raise CliError(str(e)) from None


def cmd_lut(args: argparse.Namespace) -> int:
    from accel.cli.lut import LutCliError
    from accel.cli.lut import main as lut_main

    try:
        return lut_main(args)
    except LutCliError as e:
        raise CliError(str(e)) from None


def cmd_demo(args: argparse.Namespace) -> int:
    from accel.cli.demo import run_demo

    return run_demo(seed=args.seed, as_json=args.json, plot=args.plot)


def build_parser() -> argparse.ArgumentParser:
    from accel.cli.profile import add_race_check, add_timing_outputs

    p = _Parser(prog="accel", description="Assembler, emulator and RTL cross-checks of the accel core.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    config_help = "TOML file of CoreConfig fields the program is checked against and runs with"
    a = sub.add_parser("asm", help="assemble a .s file into a binary")
    a.add_argument("source")
    a.add_argument("-o", "--output", help="output file (default: SOURCE with .bin)")
    a.add_argument("--config", help=config_help)
    a.set_defaults(fn=cmd_asm)

    d = sub.add_parser("disasm", help="disassemble a binary; the text reassembles to the same bytes")
    d.add_argument("binary")
    d.add_argument("--addresses", action="store_true", help="end each line with its instruction index")
    d.add_argument("--config", help=config_help)
    d.set_defaults(fn=cmd_disasm)

    from accel.cli.compile import add_options, cmd_compile

    co = sub.add_parser("compile", help="compile an ONNX model to accel programs (docs/compiler.md)")
    co.add_argument("program", metavar="model.onnx")
    co.add_argument("-o", "--output", help="write the program binary (NAME.segK.bin per segment if several)")
    co.add_argument("--config", help=config_help)
    co.add_argument("--listing", help="write the assembly listing (each line names its ONNX node)")
    co.add_argument("--report", action="store_true", help="print every node's placement and why")
    co.add_argument("--json", action="store_true", help="machine-readable report")
    add_options(co)
    co.set_defaults(fn=cmd_compile)

    from accel.cli.compile import add_cache_options, cmd_cache, size_arg

    ca = sub.add_parser("cache", help="the compiler's instruction database: list, stats, prune, clear")
    ca.add_argument("action", choices=["list", "stats", "prune", "clear"])
    ca.add_argument("--max-size", type=size_arg, metavar="SIZE",
                    help="prune: the size to bring the folder under, e.g. 2G (default: $ACCEL_CACHE_MAX_SIZE or 5G)")
    ca.add_argument("--json", action="store_true", help="machine-readable output")
    add_cache_options(ca, switch=False)
    ca.set_defaults(fn=cmd_cache)

    r = sub.add_parser("run", help="run a program (.s or .bin) or an ONNX model (.onnx) on the emulator")
    r.add_argument("program")
    add_options(r)
    r.add_argument("--in", dest="inputs", action="append", metavar="NAME=FILE.npy", help="an input tensor")
    r.add_argument("--out", dest="outputs", action="append", metavar="NAME=FILE.npy", help="save an output tensor")
    r.add_argument("--config", help=config_help)
    r.add_argument("--random-inputs", action="store_true", help="fill inputs not given with random values")
    r.add_argument("--seed", type=int, default=0, help="seed for --random-inputs")
    r.add_argument("--json", action="store_true", help="machine-readable report (with the timing under \"timing\")")
    r.add_argument("--timing-only", action="store_true",
                   help="schedule only, no values (exact: no instruction's time depends on data); takes no inputs")
    add_race_check(r)
    add_timing_outputs(r)
    r.set_defaults(fn=cmd_run)

    pr = sub.add_parser("profile", help="where a program's cycles go: per engine, top instructions, top waits")
    pr.add_argument("program")
    pr.add_argument("--config", help=config_help)
    pr.add_argument("--in", dest="inputs", action="append", metavar="NAME=FILE.npy",
                    help="run the values as well, with this input tensor")
    pr.add_argument("--random-inputs", action="store_true", help="run the values as well, on random inputs")
    pr.add_argument("--seed", type=int, default=0, help="seed for --random-inputs")
    pr.add_argument("--top", type=int, default=10, help="rows of the instruction and wait rankings (default 10)")
    pr.add_argument("--json", action="store_true", help="machine-readable report")
    add_race_check(pr)
    add_timing_outputs(pr)
    pr.set_defaults(fn=cmd_profile)

    i = sub.add_parser("isa", help="where the ISA manual is; `accel isa gen` regenerates derived files")
    i.add_argument("action", nargs="?", choices=["gen"], help="regenerate _table.py, the Verilog header and ISA.md")
    i.set_defaults(fn=cmd_isa)

    v = sub.add_parser("verify", help="cross-check a unit's RTL against the model (accel verify UNIT --help)",
                       add_help=False)
    v.set_defaults(fn=cmd_verify)

    sp = sub.add_parser("sparsify", help="mixed-ratio N:M pruning of a weight matrix [K, N] into compressed weights")
    from accel.cli.sparsify import add_sparsify_arguments

    add_sparsify_arguments(sp)
    sp.set_defaults(fn=cmd_sparsify)

    lu = sub.add_parser("lut", help="build function-approximation tables; report their accuracy")
    from accel.cli.lut import add_arguments as add_lut_arguments

    add_lut_arguments(lu)
    lu.set_defaults(fn=cmd_lut)

    from accel.cli.sweep import add_arguments as add_sweep_arguments
    from accel.cli.sweep import cmd_sweep

    sw = sub.add_parser("sweep", help="design-space sweep: models x configs, cycles, area, energy, Pareto plots")
    add_sweep_arguments(sw)
    sw.set_defaults(fn=cmd_sweep)

    m = sub.add_parser("demo", help="run the two-layer bf16 MLP example and check it against NumPy")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--json", action="store_true")
    m.add_argument("--plot", metavar="PNG", help="save a scatter plot of outputs against the reference")
    m.set_defaults(fn=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    from accel.isa.asm import AsmError
    from accel.isa.encoding import DecodeError
    from accel.machine import ConfigError, MachineError

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    as_json = "--json" in argv and argv[:1] != ["verify"]  # verify answers --json itself
    try:
        if argv[:1] == ["verify"]:
            args, rest = parser.parse_known_args(argv[:1])[0], argv[1:]
        else:
            args, rest = parser.parse_args(argv), []
    except UsageError as e:
        return _fail(str(e), as_json, EXIT_USAGE)
    try:
        if args.command == "verify":
            return cmd_verify(args, rest)
        return args.fn(args)
    except AsmError as e:
        return _fail(str(e), as_json, location={"file": e.file, "line": e.line, "column": e.col})
    except (CliError, DecodeError, MachineError, ConfigError) as e:
        return _fail(f"accel: error: {e}", as_json)
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return 0
    except OSError as e:
        return _fail(f"accel: error: {e.filename or ''}: {e.strerror or e}", as_json)
    except KeyboardInterrupt:
        print("accel: interrupted", file=sys.stderr)
        return 130


def _fail(message: str, as_json: bool, code: int = EXIT_ERROR, location: dict | None = None) -> int:
    """Print the readable message on stderr and, under --json, {"error": its first line} on stdout."""
    print(message, file=sys.stderr)
    if as_json:
        text = message.strip().splitlines()[-1] if code == EXIT_USAGE else message.splitlines()[0]
        print(json.dumps({"error": text.removeprefix("accel: error: "), **(location or {})}, indent=2))
    return code


if __name__ == "__main__":
    sys.exit(main())

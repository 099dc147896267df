"""The `accel` command: asm, disasm, run, isa, verify, demo.

Every expected failure (bad assembly, bad binary, bad config, bad input file, a faulting
program) prints a readable message and exits non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

EXIT_USAGE, EXIT_ERROR = 2, 1


class CliError(Exception):
    """A user-facing error: printed as `accel: error: ...`."""


def _load_program(path: str):
    from accel.isa.asm import assemble_file
    from accel.isa.encoding import Program

    p = Path(path)
    if not p.exists():
        raise CliError(f"{path}: no such file")
    data = p.read_bytes()
    if data[:4] == b"ACCL":
        return Program.from_bytes(data)
    return assemble_file(path)


def _pairs(items: list[str] | None, flag: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise CliError(f"{flag} {item!r}: expected NAME=file.npy")
        out[name] = file
    return out


def cmd_asm(args: argparse.Namespace) -> int:
    prog = _load_program(args.source)
    out = Path(args.output or Path(args.source).with_suffix(".bin"))
    out.write_bytes(prog.to_bytes())
    print(f"{args.source}: {len(prog.instructions)} instructions, {len(prog.tensors)} tensors -> {out} "
          f"({out.stat().st_size} bytes)")
    return 0


def cmd_disasm(args: argparse.Namespace) -> int:
    from accel.isa.disasm import disassemble

    p = Path(args.binary)
    if not p.exists():
        raise CliError(f"{args.binary}: no such file")
    sys.stdout.write(disassemble(p.read_bytes(), addresses=args.addresses))
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


def cmd_run(args: argparse.Namespace) -> int:
    from accel.machine import Core, CoreConfig

    prog = _load_program(args.program)
    config = CoreConfig.from_toml(args.config) if args.config else CoreConfig()
    inputs: dict[str, Any] = _random_inputs(prog, args.seed) if args.random_inputs else {}
    for name, file in _pairs(args.inputs, "--in").items():
        try:
            inputs[name] = np.load(file)
        except (OSError, ValueError) as e:
            raise CliError(f"--in {name}={file}: cannot read a .npy file ({e})") from None
    outs = _pairs(args.outputs, "--out")
    out_names = [t.name for t in prog.tensors if t.role in ("out", "inout")]
    for name in outs:
        if name not in out_names:
            raise CliError(f"--out {name}: not an output tensor (outputs: {', '.join(out_names)})")
    result = Core(config).run(prog, inputs)
    for name, file in outs.items():
        np.save(file, result.outputs[name])
    if args.json:
        report = {
            "program": args.program,
            "stats": result.stats.to_dict(),
            "outputs": {k: {"shape": list(v.shape), "dtype": str(v.dtype), "file": outs.get(k)}
                        for k, v in result.outputs.items()},
        }
        print(json.dumps(report, indent=2))
    else:
        print(format_stats(result.stats))
        for k, v in result.outputs.items():
            where = f" -> {outs[k]}" if k in outs else ""
            print(f"output {k}: {v.dtype}{list(v.shape)}{where}")
    return 0


def format_stats(stats) -> str:
    ins = stats.instructions
    lines = [
        "instructions  " + "  ".join(f"{k}={v}" for k, v in ins.items()) + f"  total={sum(ins.values())}",
        f"MACs          {stats.macs:,}",
        f"bytes moved   DRAM->SBUF {stats.bytes_dram_to_sbuf:,}  SBUF->DRAM {stats.bytes_sbuf_to_dram:,}",
        f"PE array      {stats.pe_cycles:,} cycles, utilization {stats.utilization:.1%}",
    ]
    return "\n".join(lines)


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
    p = argparse.ArgumentParser(prog="accel", description="Assembler, emulator and RTL cross-checks of the accel core.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    a = sub.add_parser("asm", help="assemble a .s file into a binary")
    a.add_argument("source")
    a.add_argument("-o", "--output", help="output file (default: SOURCE with .bin)")
    a.set_defaults(fn=cmd_asm)

    d = sub.add_parser("disasm", help="disassemble a binary; the text reassembles to the same bytes")
    d.add_argument("binary")
    d.add_argument("--addresses", action="store_true", help="end each line with its instruction index")
    d.set_defaults(fn=cmd_disasm)

    r = sub.add_parser("run", help="run a program (.s or .bin) on the emulator")
    r.add_argument("program")
    r.add_argument("--in", dest="inputs", action="append", metavar="NAME=FILE.npy", help="an input tensor")
    r.add_argument("--out", dest="outputs", action="append", metavar="NAME=FILE.npy", help="save an output tensor")
    r.add_argument("--config", help="TOML file of CoreConfig fields")
    r.add_argument("--random-inputs", action="store_true", help="fill inputs not given with random values")
    r.add_argument("--seed", type=int, default=0, help="seed for --random-inputs")
    r.add_argument("--json", action="store_true", help="machine-readable report")
    r.set_defaults(fn=cmd_run)

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
    if argv[:1] == ["verify"]:
        args, rest = parser.parse_known_args(argv[:1])[0], argv[1:]
    else:
        args, rest = parser.parse_args(argv), []
    try:
        if args.command == "verify":
            return cmd_verify(args, rest)
        return args.fn(args)
    except AsmError as e:
        print(str(e), file=sys.stderr)
    except (CliError, DecodeError, MachineError, ConfigError) as e:
        print(f"accel: error: {e}", file=sys.stderr)
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return 0
    except OSError as e:
        print(f"accel: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
    except KeyboardInterrupt:
        print("accel: interrupted", file=sys.stderr)
        return 130
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())

"""The assembler: text -> Program. Every error names file:line:column and shows a caret.

Syntax (see isa/ISA.md): one instruction per line, `;` or `#` comments, `.const NAME = EXPR`,
`.tensor NAME DTYPE[D0, ...] ROLE`, operands separated by commas, optional operands as
`key=value`.
"""

from __future__ import annotations

import ast
import difflib
import gc
import keyword
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from accel.isa.check import BUILTIN_FUNCTIONS, Checker, CheckError
from accel.isa.encoding import BY_MNEMONIC, Instruction, Program, encode
from accel.isa.operands import (
    AP,
    DTYPES,
    ENGINES,
    MAX_DIMS,
    ROLES,
    SPACES,
    DramAP,
    Tensor,
    default_strides,
)
from accel.isa.spec import KIND_TEXT

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
WORD_RE = re.compile(r"\.?[A-Za-z_][A-Za-z0-9_.]*")  # a mnemonic or directive
KEY_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)\s*")  # key= of an optional operand
INT_LITERAL_RE = re.compile(r"-?(?:0|[1-9][0-9]*|0[xX][0-9a-fA-F]+)")  # what int(text, 0) reads as Python does
F32_MAX = float(np.finfo(np.float32).max)
F32_OVERFLOW = 2.0**128 - 2.0**103  # the smallest magnitude that rounds to binary32 infinity


class AsmError(Exception):
    """An assembly error at file:line:column; str() is the full caret diagnostic."""

    def __init__(self, msg: str, file: str, line: int, col: int, text: str | None) -> None:
        super().__init__(msg)
        self.msg, self.file, self.line, self.col, self.text = msg, file, line, col, text

    def __str__(self) -> str:
        if self.text is None:  # no line to show (it is not text)
            return f"{self.file}:{self.line}:{self.col}: error: {self.msg}"
        caret = " " * (self.col - 1) + "^"
        return f"{self.file}:{self.line}:{self.col}: error: {self.msg}\n    {self.text}\n    {caret}"


class _Err(Exception):
    """An error inside one token; `pos` is the 0-based offset in that token."""

    def __init__(self, msg: str, pos: int = 0) -> None:
        super().__init__(msg)
        self.msg, self.pos = msg, pos


@dataclass(slots=True)
class Tok:
    text: str
    pos: int  # 0-based offset of text in the line


def _strip_comment(line: str) -> str:
    cut = len(line)
    for ch in ";#":
        i = line.find(ch, 0, cut)
        if i >= 0:
            cut = i
    return line[:cut]


_SPLIT_RE = {",": re.compile(r"[()\[\]{},]")}
_FLAT_RE = re.compile(r"(?:[^\[\](){}]|\[[^\[\](){}]*\]|\([^\[\](){}]*\))*")  # balanced, nothing nested
_FLAT_COMMA_RE = re.compile(r",(?=[^\[\]()]*(?:[\[(]|$))")  # in _FLAT_RE's text: a comma outside brackets


def split_top(text: str, pos: int, sep: str = ",") -> list[Tok]:
    """Split at `sep` outside brackets/parens; keep each piece's offset, trimmed."""
    parts, depth, start = [], 0, 0
    if sep == "," and _FLAT_RE.fullmatch(text):  # no nesting (the usual operand list): the commas by one regex
        for found in _FLAT_COMMA_RE.finditer(text):
            parts.append((start, found.start()))
            start = found.end()
        parts.append((start, len(text)))
        return _pieces(text, pos, parts)
    specials = _SPLIT_RE.get(sep) or re.compile(r"[()\[\]{}" + re.escape(sep) + "]")
    for found in specials.finditer(text):  # the same loop as over every character, skipping the others
        i, ch = found.start(), found.group()
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise _Err(f"unbalanced {ch!r}", pos + i)
        elif ch == sep and depth == 0:
            parts.append((start, i))
            start = i + 1
    if depth:
        raise _Err("unclosed bracket", pos + len(text))
    parts.append((start, len(text)))
    return _pieces(text, pos, parts)


def _pieces(text: str, pos: int, parts: list[tuple[int, int]]) -> list[Tok]:
    """The trimmed tokens of text[a:b] for each (a, b), at their offsets in the line."""
    out = []
    for a, b in parts:
        piece = text[a:b]
        lead = len(piece) - len(piece.lstrip())
        out.append(Tok(piece.strip(), pos + a + lead))
    return out


# ----------------------------------------------------------------------------- expressions

_BINOPS = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a // b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
    ast.LShift: lambda a, b: a << b, ast.RShift: lambda a, b: a >> b,
    ast.BitAnd: lambda a, b: a & b, ast.BitOr: lambda a, b: a | b, ast.BitXor: lambda a, b: a ^ b,
}


def _simple_int(text: str, consts: dict[str, int]) -> int | None:
    """The value of a plain integer literal or a defined constant's name, exactly as eval_int's
    general path would give it; None for anything else (which then takes that path)."""
    if text.isdigit() and text.isascii() and (text[0] != "0" or len(text) == 1):  # decimal, the usual case
        return int(text)
    if INT_LITERAL_RE.fullmatch(text):
        return int(text, 0)
    if text in consts and not keyword.iskeyword(text):
        return consts[text]
    return None


def eval_int(tok: Tok, consts: dict[str, int]) -> int:
    """Evaluate an integer expression of literals, constants and + - * / % << >> & | ^."""
    text = tok.text
    simple = _simple_int(text, consts)
    if simple is not None:
        return simple
    if not text:
        raise _Err("expected an integer expression", tok.pos)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise _Err(f"cannot read {text!r} as an integer expression", tok.pos + max((e.offset or 1) - 1, 0)) from None

    def ev(node: ast.AST) -> int:
        at = tok.pos + getattr(node, "col_offset", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in consts:
                raise _Err(f"unknown constant {node.id!r}", at)
            return consts[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else (~v if isinstance(node.op, ast.Invert) else v)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and b == 0:
                raise _Err("division by zero", at)
            if isinstance(node.op, (ast.LShift, ast.RShift)) and not 0 <= b < 64:
                raise _Err(f"shift by {b}: allowed 0..63", at)
            return _BINOPS[type(node.op)](a, b)
        raise _Err(f"{ast.unparse(node)!r} is not allowed in an integer expression", at)

    return ev(tree.body)


def parse_f32(tok: Tok, consts: dict[str, int]) -> int:
    """A binary32 immediate -> its bit pattern."""
    t = tok.text.strip()
    low = t.lower()
    if low.startswith("bits(") and low.endswith(")"):
        v = eval_int(Tok(t[5:-1], tok.pos + 5), consts)
        if not 0 <= v < 1 << 32:
            raise _Err(f"bits({v:#x}) does not fit 32 bits", tok.pos)
        return v
    specials = {"inf": np.inf, "+inf": np.inf, "-inf": -np.inf, "nan": np.nan}
    if low in specials:
        return int(np.float32(specials[low]).view(np.uint32)) if low != "nan" else 0x7FC00000
    try:
        value = float(t)
    except ValueError:
        try:
            value = float(eval_int(tok, consts))
        except _Err:
            raise _Err(f"expected a float, inf, nan or bits(0x...), got {t!r}", tok.pos) from None
    if abs(value) >= F32_OVERFLOW and not math.isinf(value):  # would round to infinity
        raise _Err(f"{t} overflows binary32 (largest {F32_MAX:.8g}); write inf if you mean it", tok.pos)
    return int(np.array([value], dtype=np.float32).view(np.uint32)[0])


# ----------------------------------------------------------------------------- access patterns


def _bracket(tok: Tok, start: int) -> tuple[Tok, int]:
    """Contents of the bracket group opening at text[start] and the index after it."""
    text, open_ch = tok.text, tok.text[start]
    close_ch = {"[": "]", "(": ")"}[open_ch]
    depth = 0
    for i in range(start, len(text)):
        if text[i] == open_ch:
            depth += 1
        elif text[i] == close_ch:
            depth -= 1
            if depth == 0:
                return Tok(text[start + 1:i], tok.pos + start + 1), i + 1
    raise _Err(f"missing {close_ch!r}", tok.pos + len(text))


def _dims(tok: Tok, consts: dict[str, int], what: str, max_dims: int) -> tuple[tuple[int, int], ...]:
    items = split_top(tok.text, tok.pos)
    if not tok.text.strip():
        raise _Err(f"{what}: expected at least one dim like [64] or [4@16, 16]", tok.pos)
    if len(items) > max_dims:
        raise _Err(f"{what}: {len(items)} dims, at most {max_dims}", items[max_dims].pos)
    counts, strides = [], []
    for it in items:
        if "@" in it.text:
            a, b = it.text.split("@", 1)
            n = eval_int(Tok(a.strip(), it.pos), consts)
            s = eval_int(Tok(b.strip(), it.pos + len(a) + 1 + (len(b) - len(b.lstrip()))), consts)
        else:
            n, s = eval_int(it, consts), None
        if n < 1:
            raise _Err(f"{what}: dim count {n}, must be at least 1", it.pos)
        counts.append(n)
        strides.append(s)
    defaults = default_strides(tuple(counts))
    return tuple((n, d if s is None else s) for n, s, d in zip(counts, strides, defaults, strict=True))


_DIM = r"\s*([-\w]+)\s*(?:@\s*([-\w]+)\s*)?"  # N or N@S: a (count, stride) group pair


def _dims_re(most: int) -> str:
    """1..most comma-separated dims, each a (count, stride) group pair (None where left out)."""
    return _DIM + f"(?:,{_DIM})?" * (most - 1)


_AP_RE = re.compile("(" + "|".join(map(re.escape, SPACES)) + r")\[\s*([-\w]+)\s*(?::\s*([-\w]+)\s*)?,\s*([-\w]+)\s*\]"
                    r"\s*:\s*([A-Za-z0-9_]+)\s*\[" + _dims_re(MAX_DIMS) + r"\]\s*")  # sb[P0:P1, OFF]:DTYPE[N@S, ...]


def _plain_dims(groups: tuple[str | None, ...], consts: dict[str, int]) -> tuple[tuple[int, int], ...] | None:
    """The (count, stride) dims of _dims_re's group pairs, each number a plain literal or constant and
    each count at least 1, a left-out stride the row-major one; None for anything else."""
    counts, strides = [], []
    for k in range(0, len(groups), 2):
        n_text = groups[k]
        if n_text is None:
            break
        n = _simple_int(n_text, consts)
        if n is None or n < 1:
            return None
        counts.append(n)
        s_text = groups[k + 1]
        if s_text is None:
            strides.append(None)
        else:
            s = _simple_int(s_text, consts)
            if s is None:
                return None
            strides.append(s)
    run = 1  # the row-major stride of dim k: the product of the counts inside it
    for k in range(len(counts) - 1, -1, -1):
        if strides[k] is None:
            strides[k] = run
        run *= counts[k]
    return tuple(zip(counts, strides, strict=True))


def _plain_ap(text: str, consts: dict[str, int]) -> AP | None:
    """parse_ap of a pattern whose numbers are all plain literals or constants and which breaks no
    rule; None for anything else, which the general path then parses (or reports)."""
    m = _AP_RE.fullmatch(text)
    if m is None:
        return None
    groups = m.groups()
    space, a, b, off, dtype = groups[:5]
    p0, offset = _simple_int(a, consts), _simple_int(off, consts)
    p1 = None if p0 is None else p0 + 1 if b is None else _simple_int(b, consts)
    if (p0 is None or p1 is None or offset is None or p1 <= p0 or p0 < 0 or offset < 0 or dtype not in DTYPES
            or offset % DTYPES[dtype]["bytes"]):
        return None
    dims = _plain_dims(groups[5:], consts)
    return None if dims is None else AP(space, p0, p1 - p0, offset, dtype, dims)


def parse_ap(tok: Tok, consts: dict[str, int]) -> AP:
    """`space[P0:P1, OFF]:DTYPE[dims]`."""
    text = tok.text
    plain = _plain_ap(text, consts)
    if plain is not None:
        return plain
    m = NAME_RE.match(text)
    if not m or m.group() not in SPACES or m.end() >= len(text) or text[m.end()] != "[":
        raise _Err(f"expected an access pattern like sb[0:128, 0]:bf16[64], got {text!r}", tok.pos)
    space = m.group()
    inner, after = _bracket(tok, m.end())
    parts = split_top(inner.text, inner.pos)
    if len(parts) != 2:
        raise _Err("expected [P0:P1, OFFSET] (partition range, byte offset)", inner.pos)
    prange, off_tok = parts
    if ":" in prange.text:
        a, b = prange.text.split(":", 1)
        p0 = eval_int(Tok(a.strip(), prange.pos), consts)
        p1 = eval_int(Tok(b.strip(), prange.pos + len(a) + 1), consts)
        if p1 <= p0:
            raise _Err(f"empty partition range {p0}:{p1}", prange.pos)
    else:
        p0 = eval_int(prange, consts)
        p1 = p0 + 1
    if p0 < 0:
        raise _Err(f"partition {p0} is negative", prange.pos)
    offset = eval_int(off_tok, consts)
    if offset < 0:
        raise _Err(f"byte offset {offset} is negative", off_tok.pos)
    rest = text[after:]
    m2 = re.match(r"\s*:\s*([A-Za-z0-9_]+)\s*", rest)
    if not m2:
        raise _Err("expected ':DTYPE[dims]' after the partition range, e.g. :bf16[64]", tok.pos + after)
    dtype = m2.group(1)
    dpos = tok.pos + after + m2.start(1)
    if dtype not in DTYPES:
        raise _Err(f"unknown element type {dtype!r}; allowed {', '.join(DTYPES)}", dpos)
    if offset % DTYPES[dtype]["bytes"]:
        raise _Err(f"byte offset {offset} is not aligned to {dtype} ({DTYPES[dtype]['bytes']} bytes)", off_tok.pos)
    b = after + m2.end()
    if b >= len(text) or text[b] != "[":
        raise _Err("expected '[dims]' after the element type", tok.pos + b)
    dims_tok, end = _bracket(tok, b)
    if text[end:].strip():
        raise _Err(f"unexpected text after the access pattern: {text[end:].strip()!r}", tok.pos + end)
    dims = _dims(dims_tok, consts, "access pattern", MAX_DIMS)
    return AP(space, p0, p1 - p0, offset, dtype, dims)


# x(OFF)[N@S, ...]
_DRAM_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\(([-\w]+)\))?\[" + _dims_re(MAX_DIMS + 1) + r"\]")


def _plain_dram(text: str, consts: dict[str, int],
                tensors: dict[str, tuple[int, Tensor]]) -> tuple[DramAP, int | None] | None:
    """parse_dram of `NAME(OFF)[N@S, ...]` or `NAME[N@S, ...]` whose numbers are plain literals or
    constants and which breaks no rule; None for anything else, which the general path then parses."""
    m = _DRAM_RE.fullmatch(text)
    if m is None:
        return None
    groups = m.groups()
    name, off_text = groups[0], groups[1]
    if name not in tensors:
        return None
    offset = 0 if off_text is None else _simple_int(off_text, consts)
    if offset is None or offset < 0:
        return None
    dims = _plain_dims(groups[2:], consts)
    if dims is None:
        return None
    (pcount, pstride), free = dims[0], dims[1:] or ((1, 1),)
    return DramAP(tensors[name][0], offset, pstride, free, name), pcount


def parse_dram(tok: Tok, consts: dict[str, int], tensors: dict[str, tuple[int, Tensor]]) -> tuple[DramAP, int | None]:
    """A DRAM pattern; returns it and its partition count when the text implies one."""
    text = tok.text
    plain = _plain_dram(text, consts, tensors)
    if plain is not None:
        return plain
    m = NAME_RE.match(text)
    if not m:
        raise _Err(f"expected a DRAM tensor name, got {text!r}", tok.pos)
    name = m.group()
    if name not in tensors:
        known = ", ".join(tensors) or "none declared"
        raise _Err(f"unknown tensor {name!r} (declared: {known}); declare it with .tensor", tok.pos)
    index, t = tensors[name]
    rest, pos = text[m.end():], m.end()
    if not rest.strip():  # the whole tensor, axis 0 on partitions
        if len(t.shape) - 1 > MAX_DIMS:
            raise _Err(f"tensor {name} has rank {len(t.shape)}; whole-tensor access allows rank <= {MAX_DIMS + 1}",
                       tok.pos)
        strides = default_strides(t.shape)
        free = tuple(zip(t.shape[1:], strides[1:], strict=True)) or ((1, 1),)
        return DramAP(index, 0, strides[0], free, name), t.shape[0]
    offset = 0
    if rest[0] == "(":
        off_tok, after = _bracket(tok, pos)
        offset = eval_int(off_tok, consts)
        if offset < 0:
            raise _Err(f"element offset {offset} is negative", off_tok.pos)
        pos = after
    if pos >= len(text) or text[pos] != "[":
        raise _Err(f"expected '[' after tensor name {name}", tok.pos + pos)
    inner, end = _bracket(tok, pos)
    if text[end:].strip():
        raise _Err(f"unexpected text after the DRAM pattern: {text[end:].strip()!r}", tok.pos + end)
    items = split_top(inner.text, inner.pos)
    if any(":" in it.text for it in items):
        if offset:
            raise _Err("a slice cannot also have an (OFFSET); use one form", tok.pos)
        return _dram_slice(name, index, t, items, consts)
    dims = _dims(inner, consts, "DRAM pattern", MAX_DIMS + 1)
    (pcount, pstride), free = dims[0], dims[1:] or ((1, 1),)
    return DramAP(index, offset, pstride, free, name), pcount


def _dram_slice(name: str, index: int, t: Tensor, items: list[Tok], consts: dict[str, int]) -> tuple[DramAP, int]:
    if len(items) != len(t.shape):
        raise _Err(f"tensor {name} has {len(t.shape)} axes; the slice gives {len(items)}", items[0].pos)
    if len(items) > MAX_DIMS + 1:
        raise _Err(f"slices allow rank <= {MAX_DIMS + 1}", items[0].pos)
    strides = default_strides(t.shape)
    offset, dims = 0, []
    for ax, (it, n_ax, st) in enumerate(zip(items, t.shape, strides, strict=True)):
        if ":" in it.text:
            bits = it.text.split(":")
            if len(bits) > 3:
                raise _Err("a slice is start:stop or start:stop:step", it.pos)
            vals = []
            p = it.pos
            for b in bits:
                vals.append(eval_int(Tok(b.strip(), p), consts) if b.strip() else None)
                p += len(b) + 1
            start = 0 if vals[0] is None else vals[0]
            stop = n_ax if vals[1] is None else vals[1]
            step = 1 if len(vals) < 3 or vals[2] is None else vals[2]
            if step < 1:
                raise _Err(f"slice step {step}: must be positive (use the raw form for negative strides)", it.pos)
            if not 0 <= start < stop <= n_ax:
                raise _Err(f"slice {start}:{stop} is out of axis {ax}'s range 0:{n_ax}", it.pos)
            count = len(range(start, stop, step))
        else:
            start = eval_int(it, consts)
            if not 0 <= start < n_ax:
                raise _Err(f"index {start} is out of axis {ax}'s range 0..{n_ax - 1}", it.pos)
            count, step = 1, 1
        offset += start * st
        dims.append((count, step * st))
    (pcount, pstride), free = dims[0], tuple(dims[1:]) or ((1, 1),)
    return DramAP(index, offset, pstride, free, name), pcount


# ----------------------------------------------------------------------------- statements


class Assembler:
    """Assemble one source text. Use `assemble()` unless you need the pieces.

    With `check` (the default) every instruction also passes the static checks of
    accel.isa.check against `config` (a CoreConfig, or None for the default sizes), so what
    assembles is what the machine accepts; check=False assembles anything the encoding holds.
    """

    def __init__(self, text: str, file: str = "<asm>", config: Any = None, check: bool = True) -> None:
        self.lines = text.splitlines()
        self.file = file
        self.consts: dict[str, int] = {}
        self.tensors: dict[str, tuple[int, Tensor]] = {}
        self.instructions: list[Instruction] = []
        self._dram_pcount: dict[str, tuple[int | None, Tok]] = {}
        self._aps: dict[str, AP] = {}  # pattern text -> its AP: texts recur, and constants never change
        self._interned: dict[AP, AP] = {}  # one object per distinct pattern (cheap lookups downstream)
        # Instruction line text -> (table entry, operands, operand tokens) of its parse, which passed
        # every check that depends on the text alone (so it means the same wherever it recurs).
        self._parsed: dict[str, tuple[dict, dict[str, Any], dict[str, Tok] | None]] = {}
        self._f32s: dict[str, int] = {}  # binary32 immediate text -> its bits
        self.checker = Checker(config) if check else None

    def error(self, lineno: int, pos: int, msg: str) -> AsmError:
        text = self.lines[lineno - 1].expandtabs(1) if 0 < lineno <= len(self.lines) else ""
        return AsmError(msg, self.file, lineno, pos + 1, text)

    def run(self) -> Program:
        # Assembly makes many small objects that stay alive and no reference cycles: with the cyclic
        # collector on, its repeated scans of everything alive cost 1.5-2 us per line at 23,000 lines.
        enabled = gc.isenabled()
        gc.disable()
        try:
            for lineno, raw in enumerate(self.lines, start=1):
                line = _strip_comment(raw.expandtabs(1))
                if not line.strip():
                    continue
                try:
                    self.statement(line, lineno)
                except _Err as e:
                    raise self.error(lineno, e.pos, e.msg) from None
        finally:
            if enabled:
                gc.enable()
        return Program([t for _, t in self.tensors.values()], self.instructions, self.file)

    def statement(self, line: str, lineno: int) -> None:
        parsed = self._parsed.get(line)
        if parsed is not None:  # the same instruction text as an earlier line, which passed the checks
            self.emit(parsed, line, lineno, again=True)
            return
        pos = len(line) - len(line.lstrip())
        m = WORD_RE.match(line, pos)
        if not m:
            raise _Err(f"expected a mnemonic or directive, got {line.strip()[:20]!r}", pos)
        word, after = m.group(), m.end()
        if word == ".const":
            self.const(line, after)
        elif word == ".tensor":
            self.tensor(line, after)
        elif word.startswith("."):
            raise _Err(f"unknown directive {word!r}; known: .const, .tensor", pos)
        else:
            plan = _line_plan(word)
            if plan is None or not self.fast_instruction(plan, line, after, lineno):
                self.instruction(word.lower(), line, pos, after, lineno)

    def const(self, line: str, pos: int) -> None:
        m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*", line[pos:])
        if not m:
            raise _Err("expected .const NAME = EXPR", pos)
        name = m.group(1)
        if name in self.consts:
            raise _Err(f"constant {name!r} is already defined", pos + m.start(1))
        expr = Tok(line[pos + m.end():].strip(), pos + m.end())
        self.consts[name] = eval_int(expr, self.consts)

    def tensor(self, line: str, pos: int) -> None:
        m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z0-9_]+)\s*\[", line[pos:])
        if not m:
            raise _Err("expected .tensor NAME DTYPE[D0, D1, ...] ROLE", pos)
        name, dtype = m.group(1), m.group(2)
        if name in self.tensors:
            raise _Err(f"tensor {name!r} is already declared", pos + m.start(1))
        if name in SPACES:
            raise _Err(f"{name!r} names an on-chip memory; choose another tensor name", pos + m.start(1))
        if dtype not in DTYPES:
            raise _Err(f"unknown element type {dtype!r}; allowed {', '.join(DTYPES)}", pos + m.start(2))
        tok = Tok(line[pos:], pos)
        shape_tok, end = _bracket(tok, m.end() - 1)
        shape = []
        for it in split_top(shape_tok.text, shape_tok.pos):
            n = eval_int(it, self.consts)
            if n < 1:
                raise _Err(f"tensor dimension {n}: must be at least 1", it.pos)
            shape.append(n)
        role_text = line[pos + end:].strip()
        role_pos = pos + end + (len(line[pos + end:]) - len(line[pos + end:].lstrip()))
        if role_text not in ROLES:
            raise _Err(f"expected the tensor's role ({', '.join(ROLES)}), got {role_text!r}", role_pos)
        if len(self.tensors) >= 256:
            raise _Err("a program declares at most 256 tensors", pos)
        t = Tensor(name, dtype, tuple(shape), role_text)
        if self.checker is not None:
            try:
                self.checker.tensor(t)
            except CheckError as e:
                raise _Err(e.msg, shape_tok.pos) from None
        self.tensors[name] = (len(self.tensors), t)

    def instruction(self, mn: str, line: str, pos: int, after: int, lineno: int) -> None:
        spec = BY_MNEMONIC.get(mn)
        if spec is None:
            near = difflib.get_close_matches(mn, BY_MNEMONIC, n=3, cutoff=0.6)
            near += [k for k in BY_MNEMONIC if k.split(".")[-1] == mn.split(".")[-1] and k not in near]
            hint = f"; did you mean {', '.join(near)}?" if near else "; see isa/ISA.md"
            raise _Err(f"unknown mnemonic {mn!r}{hint}", pos)
        rest = line[after:]
        toks = split_top(rest, after) if rest.strip() else []
        operands = spec["operands"]
        by_name = _by_name(spec)
        given: dict[str, Tok] = {}
        positional = True
        for k, tok in enumerate(toks):
            if not tok.text:
                raise _Err("empty operand", tok.pos)
            m = KEY_RE.match(tok.text)
            if m:
                positional = False
                key = m.group(1)
                if key not in by_name:
                    raise _Err(f"{mn} has no operand {key!r}; operands: {', '.join(by_name) or 'none'}", tok.pos)
                if key in given:
                    raise _Err(f"operand {key!r} given twice", tok.pos)
                given[key] = Tok(tok.text[m.end():], tok.pos + m.end())
            else:
                if not positional:
                    raise _Err("positional operand after a key=value operand", tok.pos)
                if k >= len(operands):
                    raise _Err(f"{mn} takes {len(operands)} operand(s), got {len(toks)}", tok.pos)
                given[operands[k]["name"]] = tok
        ops = {}
        for o in operands:
            tok = given.get(o["name"])
            if tok is None:
                if "default" not in o:
                    raise _Err(f"{mn} is missing operand {o['name']!r} ({_describe(o)})", len(line.rstrip()))
                ops[o["name"]] = self.default(o)
                continue
            ops[o["name"]] = self.operand(o, tok, mn)
        self.check(spec, ops, given)
        try:
            encode(Instruction(spec, ops))
        except ValueError as e:
            name = str(e).split(" ")[1].split(".")[0] if str(e).startswith(mn) else ""
            at = given[name].pos if name in given else pos
            raise _Err(str(e), at) from None
        parsed = (spec, ops, given)
        if len(self._parsed) < _PARSED_LIMIT:
            self._parsed[line] = parsed
        self.emit(parsed, line, lineno)

    def fast_instruction(self, plan: _LinePlan, line: str, after: int, lineno: int) -> bool:
        """Assemble an instruction line of the usual form by its mnemonic's one regular expression and
        append it: True. False (nothing changed) for anything unusual or wrong, which the general path
        (`instruction`) then assembles or reports, with its positions: the same program either way."""
        m = plan.regex.fullmatch(line, after)
        if m is None:
            return False
        groups, ops, c = m.groups(), {}, self.consts
        keyed = skipped = False
        first_ap = dram = None
        k = 0
        for name, kind, o, default in plan.operands:
            key, text = groups[k], groups[k + 1]
            k += 2
            if text is None:  # an optional operand left out
                ops[name] = default
                skipped = True
                continue
            if key is None:
                if keyed or skipped:  # positional after a key, or after a left-out operand
                    return False
            else:
                keyed = True
            if kind == "ap" or (kind == "bias" and text.split("[", 1)[0].strip() in SPACES):
                v = self._aps.get(text)
                if v is None:
                    v = _plain_ap(text, c)
                    if v is None:
                        return False
                    v = self._aps[text] = self._interned.setdefault(v, v)
                if kind == "bias":
                    if v.dtype != "fp32" or v.free_size != 1:
                        return False
                elif ("spaces" in o and v.space not in o["spaces"]) or ("dtypes" in o and v.dtype not in o["dtypes"]):
                    return False
                if first_ap is None:
                    first_ap = v
            elif kind == "dram":
                hit = _plain_dram(text, c, self.tensors)
                if hit is None:
                    return False
                v, dram = hit
            elif kind == "uint" or kind == "flag":
                if name == "fn" and plan.named_fn and NAME_RE.fullmatch(text) and text not in c:
                    if text not in BUILTIN_FUNCTIONS:
                        return False
                    v = BUILTIN_FUNCTIONS.index(text)
                else:
                    v = _simple_int(text, c)
                    if v is None or v < 0 or (kind == "flag" and v > 1):
                        return False
                if "range" in o and not o["range"][0] <= v <= o["range"][1]:
                    return False
            elif kind == "f32" or kind == "bias":
                v = self._f32(text)
                if v is None or ("range" in o and not o["range"][0] <= _f32_value(v) <= o["range"][1]):
                    return False
            elif kind == "engine":
                v = text.upper()
                if v not in ENGINES:
                    return False
                v = v.lower()
            else:  # sem
                sm = _SEM_RE.fullmatch(text)
                if sm is None:
                    return False
                v = int(sm.group(1))
            ops[name] = v
        if dram is not None and dram != first_ap.pcount:  # the DRAM side's own partition count disagrees
            return False
        spec = plan.spec
        ins = Instruction(spec, ops, lineno, self.file, line.strip())  # its ops are the parse's: none changes them
        try:
            encode(ins)
        except ValueError:
            return False
        if self.checker is not None:
            try:
                self.checker.instruction(ins, len(self.instructions))
            except CheckError:
                return False
        if len(self._parsed) < _PARSED_LIMIT:
            self._parsed[line] = (spec, ops, None)
        self.instructions.append(ins)
        return True

    def _f32(self, text: str) -> int | None:
        """parse_f32 of an operand's text, once per distinct text; None where it fails."""
        bits = self._f32s.get(text)
        if bits is None:
            try:
                bits = parse_f32(Tok(text, 0), self.consts)
            except _Err:
                return None
            self._f32s[text] = bits
        return bits

    def emit(self, parsed: tuple[dict, dict[str, Any], dict[str, Tok] | None], line: str, lineno: int,
             again: bool = False) -> None:
        """Append the instruction of a parsed line after the program-order checks (accel.isa.check);
        `again`: an equal line passed them earlier, so it passes again (Checker.repeat). The operand
        tokens (None from fast_instruction) place the caret of a first emit's error."""
        spec, ops, given = parsed
        ins = Instruction(spec, dict(ops), lineno, self.file, line.strip())
        if again:
            if self.checker is not None:
                self.checker.repeat(ins)
        elif self.checker is not None:
            try:
                self.checker.instruction(ins, len(self.instructions))
            except CheckError as e:
                at = given[e.operand].pos if e.operand in given else len(line) - len(line.lstrip())
                raise _Err(e.msg, at) from None
        self.instructions.append(ins)

    @staticmethod
    def default(o: dict) -> int:
        if o["kind"] in ("f32", "bias"):
            return int(np.array([o["default"]], dtype=np.float32).view(np.uint32)[0])
        return int(o["default"])

    def parse_ap(self, tok: Tok) -> AP:
        """parse_ap, once per distinct text (a text that parsed once always means the same pattern:
        constants cannot be redefined), returning one shared object per distinct pattern."""
        ap = self._aps.get(tok.text)
        if ap is None:
            ap = parse_ap(tok, self.consts)
            ap = self._aps[tok.text] = self._interned.setdefault(ap, ap)
        return ap

    def operand(self, o: dict, tok: Tok, mn: str) -> object:
        kind, c = o["kind"], self.consts
        if mn == "act.func" and o["name"] == "fn" and NAME_RE.fullmatch(tok.text) and tok.text not in c:
            return _function_id(tok)
        if kind == "engine":
            name = tok.text.upper()
            if name not in ENGINES:
                raise _Err(f"expected an engine ({', '.join(e.lower() for e in ENGINES)}), got {tok.text!r}", tok.pos)
            return name.lower()
        if kind == "sem":
            m = re.fullmatch(r"[sS](\d+)", tok.text)
            if not m:
                raise _Err(f"expected a semaphore like s0, got {tok.text!r}", tok.pos)
            return int(m.group(1))
        if kind in ("uint", "flag"):
            v = eval_int(tok, c)
            if v < 0 or (kind == "flag" and v > 1):
                allowed = "0 or 1" if kind == "flag" else "a non-negative integer"
                raise _Err(f"{o['name']} = {v}: expected {allowed}", tok.pos)
            _check_range(o, v, tok)
            return v
        if kind == "f32":
            bits = parse_f32(tok, c)
            _check_range(o, float(np.array([bits], dtype=np.uint32).view(np.float32)[0]), tok)
            return bits
        if kind == "bias":
            if tok.text.split("[", 1)[0].strip() in SPACES:
                ap = self.parse_ap(tok)
                if ap.dtype != "fp32" or ap.free_size != 1:
                    raise _Err("a bias pattern holds one fp32 per partition (like sb[0:64, 0]:fp32[1]), "
                               f"got {ap.dtype}[{ap.free_size}]", tok.pos)
                return ap
            return parse_f32(tok, c)
        if kind == "ap":
            ap = self.parse_ap(tok)
            if "spaces" in o and ap.space not in o["spaces"]:
                raise _Err(f"{mn} {o['name']} must be in {' or '.join(o['spaces'])}, not {ap.space}", tok.pos)
            if "dtypes" in o and ap.dtype not in o["dtypes"]:
                raise _Err(f"{mn} {o['name']} must hold {' or '.join(o['dtypes'])}, not {ap.dtype}", tok.pos)
            return ap
        if kind == "dram":
            d, pcount = parse_dram(tok, c, self.tensors)
            self._dram_pcount[o["name"]] = (pcount, tok)
            return d
        raise AssertionError(kind)  # pragma: no cover - spec loader rejects unknown kinds

    def check(self, spec: dict, ops: dict, given: dict[str, Tok]) -> None:
        """What only the text says: a DRAM pattern written with its own partition count must
        span the SBUF side's partitions (a binary takes the count from the SBUF side). The
        other checks are accel.isa.check's, shared with the binary loader."""
        for o in spec["operands"]:
            if o["kind"] != "dram":
                continue
            pcount, tok = self._dram_pcount[o["name"]]
            ap = next(v for v in ops.values() if isinstance(v, AP))
            if pcount is not None and pcount != ap.pcount:
                raise _Err(f"DRAM side spans {pcount} partitions, SBUF side {ap.pcount}", tok.pos)


_PARSED_LIMIT = 1 << 16  # distinct instruction lines an Assembler remembers
_BY_NAME: dict[str, dict[str, dict]] = {}


def _by_name(spec: dict) -> dict[str, dict]:
    """An instruction's operand entries by name, worked out once per mnemonic."""
    by_name = _BY_NAME.get(spec["mnemonic"])
    if by_name is None:
        by_name = _BY_NAME[spec["mnemonic"]] = {o["name"]: o for o in spec["operands"]}
    return by_name


_SEM_RE = re.compile(r"[sS](\d+)")
_AP_TEXT = "(?:" + "|".join(map(re.escape, SPACES)) + r")\[[^\[\]()]*\]\s*:\s*\w+\s*\[[^\[\]()]*\]"
_SCALAR_TEXT = r"[-+.\w]+"
_OPERAND_TEXT = {"ap": _AP_TEXT, "dram": r"[A-Za-z_]\w*(?:\([^()\[\]]*\))?\[[^\[\]()]*\]",
                 "bias": f"{_AP_TEXT}|{_SCALAR_TEXT}"}  # the operand texts the fast path reads; others: scalars


@dataclass(frozen=True, slots=True)
class _LinePlan:
    """How Assembler.fast_instruction reads one mnemonic's operand list: a regular expression with a
    (key, text) group pair per operand in table order, and (name, kind, entry, default) per operand."""

    spec: dict
    regex: re.Pattern
    operands: tuple[tuple[str, str, dict, Any], ...]
    named_fn: bool  # act.func: fn may be a built-in function's name


_LINE_PLANS: dict[str, _LinePlan | None] = {}


def _line_plan(word: str) -> _LinePlan | None:
    """The fast plan of a mnemonic as written (lower case), worked out once; None if there is none."""
    if word in _LINE_PLANS:
        return _LINE_PLANS[word]
    spec = BY_MNEMONIC.get(word)
    if spec is None:
        return None
    operands = spec["operands"]
    required = ["default" not in o for o in operands]
    plan = None
    if required == sorted(required, reverse=True) and (not operands or required[0]):  # required ones first
        pieces = []
        for o, needed in zip(operands, required, strict=True):
            piece = (rf"(?:({re.escape(o['name'])})\s*=\s*)?({_OPERAND_TEXT.get(o['kind'], _SCALAR_TEXT)})")
            sep = r"\s*,\s*" if pieces else ""
            pieces.append(sep + piece if needed else f"(?:{sep}{piece})?")
        regex = re.compile(r"\s*" + "".join(pieces) + r"\s*")
        plan = _LinePlan(spec, regex, tuple((o["name"], o["kind"], o, Assembler.default(o) if "default" in o else None)
                                            for o in operands), word == "act.func")
    _LINE_PLANS[word] = plan
    return plan


def _f32_value(bits: int) -> float:
    """The binary32 value of a bit pattern."""
    return float(np.array([bits], dtype=np.uint32).view(np.float32)[0])


def _check_range(o: dict, value: float, tok: Tok) -> None:
    """The operand's `range = [lo, hi]` option from the ISA data, if it has one."""
    if "range" in o:
        lo, hi = o["range"]
        if not lo <= value <= hi:  # NaN fails too
            raise _Err(f"{o['name']} = {tok.text}: allowed {lo}..{hi}", tok.pos)


def _describe(o: dict) -> str:
    return KIND_TEXT[o["kind"]]


def _function_id(tok: Tok) -> int:
    """act.func's fn given by name: the built-in's id."""
    if tok.text in BUILTIN_FUNCTIONS:
        return BUILTIN_FUNCTIONS.index(tok.text)
    near = difflib.get_close_matches(tok.text, BUILTIN_FUNCTIONS, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise _Err(f"unknown function {tok.text!r}{hint} (built-ins: {', '.join(BUILTIN_FUNCTIONS)}; "
               "user slots by number, 16..31)", tok.pos)


def source_text(data: bytes | bytearray, file: str) -> str:
    """UTF-8 source bytes as text; AsmError at the line and column of the first byte that is not UTF-8."""
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        head = bytes(data[:e.start])
        line_start = head.rfind(b"\n") + 1
        col = len(head[line_start:].decode("utf-8", "replace")) + 1
        raise AsmError(f"byte {data[e.start]:#04x} is not UTF-8 text (source files are UTF-8)", file,
                       head.count(b"\n") + 1, col, None) from None


def assemble(text: str | bytes, file: str = "<asm>", config: Any = None, *, check: bool = True) -> Program:
    """Assemble source text (str, or UTF-8 bytes) into a Program; raises AsmError (file:line:col +
    caret). The static checks run against `config` (a CoreConfig; None: the default sizes)."""
    if isinstance(text, bytes | bytearray):
        text = source_text(text, file)
    elif not isinstance(text, str):
        raise TypeError(f"assemble() takes source text (str or bytes), not {type(text).__name__}")
    return Assembler(text, file, config, check).run()


def assemble_file(path: str, config: Any = None) -> Program:
    """Assemble a UTF-8 source file (see assemble)."""
    with open(path, "rb") as f:
        return assemble(f.read(), str(path), config)

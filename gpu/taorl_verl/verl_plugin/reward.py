"""taorl's answer checking (src/agent/answer.ts, src/agent/latex.ts) in plain Python, for verl's reward hook.

verl calls ``compute_score(data_source, solution_str, ground_truth, extra_info)`` (custom_reward_function in
the recipe). The score is TAO-RL.md §1's reward: 1.0 when the last ``\\boxed{}`` of the response equals the
truth (math-equivalent), else 0.0. This module is a port written from taorl's TypeScript, not from verl; it
needs no verl and no torch. test/fixtures/answer-cases.json (exported from taorl's own checker) fixes its
behaviour; gpu/tests/test_reward.py checks every case, and the cases where this port is known to differ
are listed in that file with a reason.

Departures from the TypeScript checker: symbolic comparison (expressions with variables at sample points)
and equations up to a constant factor are implemented; trigonometric / logarithmic LaTeX is evaluated
with Python's math module, so float rounding may differ in the last ulp.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

MAX_ANSWER_CHARS = 2000
MAX_RESPONSE_CHARS = 1_000_000
_MAX_BOX_TRIES = 16
_BOX_RE = re.compile(r"\\(?:boxed|fbox|framebox)(?![a-zA-Z])")


def extract_boxed(text):
    """The content of the last complete \\boxed{...} (or \\fbox, \\framebox, \\boxed 5); None without one."""
    if not isinstance(text, str):
        return None
    s = text[-MAX_RESPONSE_CHARS:] if len(text) > MAX_RESPONSE_CHARS else text
    starts = [m.end() for m in _BOX_RE.finditer(s)]
    for k in range(len(starts) - 1, max(0, len(starts) - _MAX_BOX_TRIES) - 1, -1):
        i = starts[k]
        while i < len(s) and s[i] == " ":
            i += 1
        if i < len(s) and s[i] == "{":
            depth = 0
            j = i
            while j < len(s):
                c = s[j]
                if c == "\\":
                    j += 2
                    continue
                if c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                    if depth == 0:
                        return s[i + 1:j]
                j += 1
            continue
        if i > starts[k]:
            m = re.match(r"[^\s$]+", s[i:i + 200])
            if m:
                return re.sub(r"[.,]$", "", m.group(0))
    return None


_ROW = "\u0001"
_UNIT_WORDS = [
    "cm", "mm", "km", "m", "kg", "g", "mg", "s", "sec", "seconds", "second", "min", "mins", "minute", "minutes",
    "h", "hr", "hrs", "hour", "hours", "day", "days", "week", "weeks", "year", "years", "km/h", "m/s", "mph",
    "inch", "inches", "in", "ft", "foot", "feet", "yard", "yards", "mile", "miles", "meter", "meters", "metres",
    "dollars", "dollar", "cents", "cent", "degrees", "degree", "units", "unit", "square", "sq", "percent", "points",
]
_UNIT_TAIL = re.compile(
    r"(?<=[\d}.)])\s*(?:(?:square|sq\.?|cubic)\s+)?(?:" + "|".join(u.replace("/", "\\/") for u in _UNIT_WORDS)
    + r")(?:\^?\{?[23]\}?)?\s*$")
_TEXT_CMD = re.compile(r"\\(?:text|textbf|textit|textrm|mbox|mathrm|mathbf|mathit|operatorname)\s*\{")
_UNIT_INNER = re.compile(r"^\s*(?:~|\\[,;! ])*\s*[a-zA-Z%°/\\][a-zA-Z%°/\s.^{}0-9\\]*$")


def _strip_text(s):
    out = ""
    i = 0
    while i < len(s):
        m = _TEXT_CMD.match(s[i:i + 20])
        if not m:
            out += s[i]
            i += 1
            continue
        depth = 0
        j = i + m.end() - 1
        while j < len(s):
            if s[j] == "{":
                depth += 1
            elif s[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= len(s):
            return s
        inner = s[i + m.end():j]
        before = out.rstrip()
        is_unit = before != "" and not re.search(r"[_{(,=^]$", before) and _UNIT_INNER.match(inner)
        k = j + 1
        if is_unit:
            p = re.match(r"\s*\^\s*\{?\s*[23]\s*\}?", s[k:])
            if p:
                k += p.end()
        else:
            out += inner
        i = k
    return out


def _canonical_decimal(s):
    t = s[1:] if s.startswith("+") else s
    neg = t.startswith("-")
    if neg:
        t = t[1:]
    int_part, _, frac = t.partition(".")
    int_part = re.sub(r"^0+(?=\d)", "", int_part) or "0"
    frac = frac.rstrip("0")
    body = f"{int_part}.{frac}" if frac else int_part
    return "-" + body if neg and body != "0" else body


def _brace(b):
    return "" if b == "." else b


def normalize_answer(inp):
    """A canonical text form of an answer, rule for rule as normalizeAnswer in src/agent/answer.ts."""
    if not isinstance(inp, str):
        return ""
    s = inp[:MAX_ANSWER_CHARS]
    s = re.sub(r"\r?\n", " ", s).strip()
    s = s.replace("\\\\", _ROW)
    s = s.replace("\\$", "").replace("$", "")
    s = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])\s*(\\?[()[\]{}|.])", lambda m: _brace(m.group(1)), s)
    s = re.sub(r"\\(?:displaystyle|textstyle)(?![a-zA-Z])", "", s)
    s = re.sub(r"\\[!,;: ]", "", s)
    s = re.sub(r"\\q?quad(?![a-zA-Z])", "", s).replace("~", " ")
    s = re.sub(r"\\[dt]frac(?![a-zA-Z])", r"\\frac", s)
    s = re.sub(r"\\[dt]binom(?![a-zA-Z])", r"\\binom", s)
    s = re.sub(r"\\geqslant|\\ge(?![a-zA-Z])", r"\\geq", s)
    s = re.sub(r"\\leqslant|\\le(?![a-zA-Z])", r"\\leq", s)
    s = re.sub(r"\\neq|\\ne(?![a-zA-Z])", r"\\neq", s)
    s = re.sub(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree(?![a-zA-Z])", "", s)
    s = _strip_text(s)
    s = s.replace("\\%", "%")
    s = re.sub(r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\frac\s*(\d)\s*\{", r"\\frac{\1}{", s)
    s = re.sub(r"\\frac\s*(\{[^{}]*\})\s*(\d)", r"\\frac\1{\2}", s)
    s = re.sub(r"\\frac\s*(\{[^{}]*\})\s*([a-zA-Z])(?![a-zA-Z])", r"\\frac\1{\2}", s)
    s = re.sub(r"\\sqrt\s*(\d|[a-zA-Z](?![a-zA-Z]))", r"\\sqrt{\1}", s)
    s = re.sub(r"\s+", " ", s).strip()
    s = _UNIT_TAIL.sub("", s, count=1)
    s = re.sub(r"(\\[a-zA-Z]+) (?=[a-zA-Z])", "\\1\u0000", s).replace(" ", "").replace("\u0000", " ")
    s = re.sub(r"([_^])\{\s*([a-zA-Z0-9])\s*\}", r"\1\2", s)
    s = re.sub(r"^(?:\\therefore|\\Rightarrow|\\implies)", "", s)
    s = re.sub(r"(?:\\\.|[.,;])+$", "", s)
    lhs = re.match(r"(?:[a-zA-Z](?:_\{?[a-zA-Z0-9\\]+\}?)?(?:\([a-zA-Z]\))?|\\[a-zA-Z]+)(?:=|\\in(?![a-zA-Z]))(?!=)", s)
    if lhs and not re.search(r"=.*=", s[lhs.end() - 1:]):
        s = s[lhs.end():]
    if re.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?", s):
        s = s.replace(",", "")
    if re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)", s):
        s = _canonical_decimal(s)
    return s.replace(_ROW, "\\\\")


# ---- structure: lists, sets, tuples, intervals, unions, matrices ---------------------------------------

def _split_top(s, sep):
    parts = []
    depth = 0
    last = 0
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and s[i + 1:i + 2] not in ("{", "}") and not s.startswith(sep, i):
            i += 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and s.startswith(sep, i):
            parts.append(s[last:i])
            last = i + len(sep)
            i += len(sep)
            continue
        i += 1
    parts.append(s[last:])
    return parts


def _wrapped(s):
    if len(s) < 2 or (s[0] not in "([" and not s.startswith("\\{")):
        return False
    depth = 0
    for i, c in enumerate(s):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0 and i < len(s) - 1:
                return False
    return depth == 0


def _parse_items(parts, depth):
    out = []
    for p in parts:
        n = _parse_node(p, depth + 1)
        if n[0] == "list" and n[3]:
            out.extend(n[1])
        else:
            out.append(n)
    return out


# nodes: ("atom", s) | ("list", items, is_set, is_pm) | ("tuple", open, close, items) | ("union", parts) | ("matrix", rows)
def _parse_node(s, depth):
    if depth > 8:
        return ("atom", s)
    mat = re.fullmatch(r"\\begin\{[pbvBV]?matrix\}(.*)\\end\{[pbvBV]?matrix\}", s)
    if mat:
        rows = [[_parse_node(c, depth + 1) for c in r.split("&")] for r in mat.group(1).split("\\\\") if r != ""]
        return ("matrix", rows)
    union = _split_top(s, "\\cup")
    if len(union) > 1:
        return ("union", [_parse_node(p, depth + 1) for p in union])
    items = _split_top(s, ",")
    if len(items) > 1:
        return ("list", _parse_items(items, depth), True, False)
    if s.startswith("\\{") and s.endswith("\\}") and _wrapped(s):
        inner = s[2:-2]
        return ("list", [] if inner == "" else _parse_items(_split_top(inner, ","), depth), True, False)
    if _wrapped(s):
        parts = _split_top(s[1:-1], ",")
        if len(parts) > 1:
            return ("tuple", s[0], s[-1], [_parse_node(p, depth + 1) for p in parts])
    pm = _split_top(s, "\\pm")
    if len(pm) == 2 and pm[0] != "":
        return ("list", [("atom", f"{pm[0]}+{pm[1]}"), ("atom", f"{pm[0]}-{pm[1]}")], True, True)
    return ("atom", s)


def _nodes_equal(a, b, o, unordered_top):
    if a[0] == "atom" and b[0] == "atom":
        return _atoms_equal(a[1], b[1], o)
    if a[0] == "matrix" and b[0] == "matrix":
        return len(a[1]) == len(b[1]) and all(
            len(r) == len(b[1][i]) and all(_nodes_equal(c, b[1][i][j], o, False) for j, c in enumerate(r))
            for i, r in enumerate(a[1]))
    if a[0] == "tuple" and b[0] == "tuple":
        return a[1] == b[1] and a[2] == b[2] and len(a[3]) == len(b[3]) and all(
            _nodes_equal(x, b[3][i], o, False) for i, x in enumerate(a[3]))
    if a[0] == "union" and b[0] == "union":
        return _same_multiset(a[1], b[1], o)
    if a[0] == "list" and b[0] == "list":
        if len(a[1]) != len(b[1]):
            return False
        if a[2] or b[2] or unordered_top:
            return _same_multiset(a[1], b[1], o)
        return all(_nodes_equal(x, b[1][i], o, False) for i, x in enumerate(a[1]))
    if a[0] == "list" and len(a[1]) == 1:
        return _nodes_equal(a[1][0], b, o, False)
    if b[0] == "list" and len(b[1]) == 1:
        return _nodes_equal(a, b[1][0], o, False)
    return False


def _same_multiset(xs, ys, o):
    if len(xs) != len(ys) or len(xs) > 64:
        return False
    used = [False] * len(ys)
    for x in xs:
        j = next((k for k, y in enumerate(ys) if not used[k] and _nodes_equal(x, y, o, False)), -1)
        if j < 0:
            return False
        used[j] = True
    return True


# ---- a small LaTeX evaluator: numbers, + - * / ^, implicit products, \frac \sqrt[n] \pi \infty, functions --

_FUNCS = {"sin": math.sin, "cos": math.cos, "tan": math.tan, "cot": lambda x: 1 / math.tan(x),
          "sec": lambda x: 1 / math.cos(x), "csc": lambda x: 1 / math.sin(x), "ln": math.log, "log": math.log,
          "exp": math.exp, "arcsin": math.asin, "arccos": math.acos, "arctan": math.atan}
_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|(\\[a-zA-Z]+)|([a-zA-Z])|(.))")


class _Fail(Exception):
    pass


def _tokens(s):
    out = []
    pos = 0
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        num, cmd, var, sym = m.groups()
        if num is not None:
            out.append(("num", num))
        elif cmd is not None:
            out.append(("cmd", cmd[1:]))
        elif var is not None:
            out.append(("var", var))
        elif sym is not None and not sym.isspace():
            out.append(("sym", sym))
    return out


class _Eval:
    def __init__(self, s, env):
        self.t = _tokens(s)
        self.i = 0
        self.env = env
        self.vars = set()

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self, kind=None, val=None):
        k, v = self.peek()
        if k is None or (kind and k != kind) or (val is not None and v != val):
            raise _Fail()
        self.i += 1
        return v

    def run(self):
        x = self.expr()
        if self.i != len(self.t):
            raise _Fail()
        return x

    def expr(self):
        x = self.term()
        while self.peek() in (("sym", "+"), ("sym", "-")):
            op = self.take()
            y = self.term()
            x = x + y if op == "+" else x - y
        return x

    def term(self):
        x = self.unary()
        while True:
            k, v = self.peek()
            if (k, v) in (("sym", "*"), ("sym", "/"), ("cmd", "cdot"), ("cmd", "times"), ("cmd", "div")):
                self.take()
                y = self.unary()
                x = x / y if v in ("/", "div") else x * y
            elif k in ("num", "var") or (k == "sym" and v in "({[") or (k == "cmd" and v not in ("cdot", "times", "div")):
                x = x * self.power()
            else:
                return x

    def unary(self):
        if self.peek() == ("sym", "-"):
            self.take()
            return -self.unary()
        if self.peek() == ("sym", "+"):
            self.take()
            return self.unary()
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek() == ("sym", "^"):
            self.take()
            e = self.group_or_atom(signed=True)
            return base ** e
        return base

    def group(self):
        self.take("sym", "{")
        x = self.expr()
        self.take("sym", "}")
        return x

    def group_or_atom(self, signed=False):
        if self.peek() == ("sym", "{"):
            return self.group()
        if signed and self.peek() == ("sym", "-"):
            self.take()
            return -self.atom()
        k, v = self.peek()
        if k == "num" and len(v) > 1 and "." not in v:  # x^23 means x^2 · 3 in LaTeX
            self.t[self.i] = ("num", v[1:])
            return float(v[0])
        return self.atom()

    def atom(self):
        k, v = self.peek()
        if k == "num":
            self.take()
            return float(v)
        if k == "var":
            self.take()
            if v == "e" and v not in self.env:
                return math.e
            self.vars.add(v)
            if v not in self.env:
                raise _Fail()
            return self.env[v]
        if k == "sym" and v in "([":
            self.take()
            x = self.expr()
            self.take("sym", ")" if v == "(" else "]")
            return x
        if k == "sym" and v == "{":
            return self.group()
        if k == "cmd":
            self.take()
            if v == "frac":
                return self.group_or_atom() / self.group_or_atom()
            if v == "sqrt":
                if self.peek() == ("sym", "["):
                    self.take()
                    n = self.expr()
                    self.take("sym", "]")
                    x = self.group_or_atom()
                    return math.copysign(abs(x) ** (1 / n), x) if x < 0 and n % 2 == 1 else x ** (1 / n)
                return math.sqrt(self.group_or_atom())
            if v == "pi":
                return math.pi
            if v == "infty":
                return math.inf
            if v in _FUNCS:
                return _FUNCS[v](self.power())
        raise _Fail()


def evaluate_latex(s, env=None):
    """The value of numeric LaTeX (or of an expression at env); None when it cannot be evaluated."""
    try:
        e = _Eval(s, env or {})
        x = e.run()
        if isinstance(x, complex):
            return None
        return float(x)
    except (_Fail, ArithmeticError, ValueError, TypeError, OverflowError, RecursionError):
        return None


def latex_variables(s):
    e = _Eval(s, {})
    try:
        e.t = [t if t[0] != "var" or t[1] == "e" else t for t in e.t]
        return sorted({v for k, v in e.t if k == "var" and v != "e"})
    except Exception:  # noqa: BLE001
        return None


# ---- atoms -----------------------------------------------------------------------------------------

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")
_SAMPLE_POINTS = [0.7315, 1.4142, 2.2361, 3.1937]


def _mixed_number(s):
    m = re.fullmatch(r"(-?)(\d+)\\frac\{(\d+)\}\{(\d+)\}", s)
    if m and int(m.group(3)) < int(m.group(4)):
        return f"{m.group(1)}({m.group(2)}+\\frac{{{m.group(3)}}}{{{m.group(4)}}})"
    return s


def _close(x, y, rel):
    if x == y:
        return True
    if not (math.isfinite(x) and math.isfinite(y)):
        return False
    return abs(x - y) <= rel * max(abs(x), abs(y)) or abs(x - y) <= 1e-12


def _sig_figs_match(pred, truth):
    m = re.fullmatch(r"[+-]?(\d*)\.?(\d*)(?:[eE][+-]?\d+)?", truth)
    if not m or ("." not in truth and "e" not in truth.lower()):
        return False
    digits = (m.group(1) + m.group(2)).lstrip("0")
    k = max(1, min(15, len(digits)))
    t = float(truth)
    if not math.isfinite(pred) or t == 0:
        return False
    return float(f"{pred:.{k}g}") == float(f"{t:.{k}g}")


def _atoms_equal(a0, b0, o):
    if a0 == b0:
        return a0 != ""
    if a0 == "" or b0 == "":
        return False
    a_pct, b_pct = a0.endswith("%"), b0.endswith("%")
    a = _mixed_number(a0[:-1] if a_pct else a0)
    b = _mixed_number(b0[:-1] if b_pct else b0)
    if a == b and a != "":
        return True
    if _DECIMAL.fullmatch(a) and _DECIMAL.fullmatch(b) and _INT.fullmatch(b) and not a_pct and not b_pct:
        try:
            return Fraction(a) == Fraction(b)
        except (ValueError, ZeroDivisionError):
            pass
    x, y = evaluate_latex(a), evaluate_latex(b)
    if x is not None and y is not None:
        for c in ([x, x / 100 if a_pct else x * 100] if a_pct or b_pct else [x]):
            if c == y:
                return True
            if _INT.fullmatch(b) and abs(y) > 2 ** 53 and not _INT.fullmatch(a):
                if _close(c, y, 1e-12):
                    return True
            elif _INT.fullmatch(b) or (float(y).is_integer() and abs(y) < 2 ** 53):
                if abs(c - y) <= 1e-9 * max(1, abs(y)):
                    return True
            elif _close(c, y, o["relTol"]) or abs(c - y) <= o["absTol"]:
                return True
            if o["sigFigs"] and _sig_figs_match(c, b):
                return True
        return False
    return _symbolic_equal(a, b)


def _symbolic_equal(a, b):
    ea, eb = _split_top(a, "="), _split_top(b, "=")
    if len(ea) != len(eb) or len(ea) > 2:
        return False
    ta = f"({ea[0]})-({ea[1]})" if len(ea) == 2 else a
    tb = f"({eb[0]})-({eb[1]})" if len(eb) == 2 else b
    va, vb = latex_variables(ta), latex_variables(tb)
    if va is None or vb is None or len(vb) == 0 or len(vb) > 8:
        return False
    names = sorted(set(va) | set(vb))
    ratio = None
    checked = 0
    for p in _SAMPLE_POINTS:
        env = {n: p + 0.37 * i + 0.11 * ((ord(n[0]) * 7) % 5) for i, n in enumerate(names)}
        x, y = evaluate_latex(ta, env), evaluate_latex(tb, env)
        if x is None or y is None:
            return False
        if not (math.isfinite(x) and math.isfinite(y)):
            if x != y:
                return False
            continue
        if len(ea) == 2:
            if abs(y) < 1e-12:
                if abs(x) > 1e-9:
                    return False
                continue
            r = x / y
            if ratio is None:
                ratio = r
            elif not _close(r, ratio, 1e-8):
                return False
            if ratio == 0:
                return False
        elif not _close(x, y, 1e-8):
            return False
        checked += 1
    return checked > 0


def answers_equal(predicted, truth, opts=None):
    """Math equivalence of a predicted answer and the truth; never raises, garbage is False."""
    try:
        if not isinstance(predicted, str) or not isinstance(truth, str):
            return False
        if len(predicted) > MAX_ANSWER_CHARS or len(truth) > MAX_ANSWER_CHARS:
            return False
        opts = opts or {}
        o = {"relTol": opts.get("relTol", 1e-4), "unordered": opts.get("unordered", False),
             "sigFigs": opts.get("sigFigs", False), "absTol": opts.get("absTol", 0.0)}
        a, b = normalize_answer(predicted), normalize_answer(truth)
        if a == "" or b == "":
            return False
        if a == b:
            return True
        return _nodes_equal(_parse_node(a, 0), _parse_node(b, 0), o, o["unordered"])
    except Exception:  # noqa: BLE001 -- the reward must be total, as in taorl
        return False


def reward(response, truth, opts=None):
    """TAO-RL.md §1: 1 when the last \\boxed{} answer equals the truth, else 0."""
    predicted = extract_boxed(response)
    return 1 if predicted is not None and answers_equal(predicted, truth, opts) else 0


def compute_score(data_source, solution_str, ground_truth, extra_info=None):
    """verl's custom reward function signature; the check options travel in extra_info["check"]."""
    check = extra_info.get("check") if isinstance(extra_info, dict) else None
    # parquet structs come back with every field, unset ones as None (taorl export verl's `check`)
    opts = {k: v for k, v in check.items() if v is not None} if isinstance(check, dict) else None
    return float(reward(solution_str, ground_truth, opts or None))

// A small, safe evaluator for the LaTeX maths subset that final answers use: numbers (incl. 4.5e33),
// + - * / ^ !, implicit products (3\sqrt{2}, 2n, (a+5)(b+2)), \frac \sqrt[n] \binom, \pi, e, \infty,
// \sin \cos \tan \cot \sec \csc \arcsin \arccos \arctan \ln \log[_b] \exp, \lfloor \rfloor, \lceil \rceil,
// |x|, and free variables (letters, Greek letters, subscripted names) looked up in an environment.
// No eval, no regex backtracking over the input; recursion depth and token count are bounded, and any
// failure is a `null` result, never a throw to the caller. Pure: no I/O, usable in browsers and workers.

/** Most tokens one expression may have; longer inputs are not evaluated. */
export const MAX_TOKENS = 600;
/** Deepest nesting the parser follows. */
export const MAX_DEPTH = 60;

type Tok =
  | { t: "num"; v: number }
  | { t: "id"; v: string }
  | { t: "cmd"; v: string }
  | { t: "op"; v: string };

class EvalError extends Error {}

const GREEK = new Set([
  "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
  "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
  "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega", "hbar", "ell",
]);
const FUNCS: Record<string, (x: number) => number> = {
  sin: Math.sin, cos: Math.cos, tan: Math.tan, cot: (x) => 1 / Math.tan(x), sec: (x) => 1 / Math.cos(x),
  csc: (x) => 1 / Math.sin(x), arcsin: Math.asin, arccos: Math.acos, arctan: Math.atan, sinh: Math.sinh,
  cosh: Math.cosh, tanh: Math.tanh, ln: Math.log, exp: Math.exp, log: Math.log10,
};
/** Commands that carry no value and are skipped. */
const IGNORED = new Set(["left", "right", "displaystyle", "mathrm", "mathbf", "mathit", "operatorname", "text", "mbox"]);

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    if (out.length > MAX_TOKENS) throw new EvalError("too long");
    const c = s[i];
    if (c === " " || c === "\t" || c === "\n") { i++; continue; }
    if ((c >= "0" && c <= "9") || (c === "." && s[i + 1] >= "0" && s[i + 1] <= "9")) {
      let j = i;
      while (j < s.length && ((s[j] >= "0" && s[j] <= "9") || s[j] === ".")) j++;
      // scientific notation only when digits follow: 4.5e33, 1e-5 (but "2e^{t}" is 2·e^t)
      if ((s[j] === "e" || s[j] === "E") && /^[eE][+-]?\d/.test(s.slice(j, j + 3))) {
        j++;
        if (s[j] === "+" || s[j] === "-") j++;
        while (j < s.length && s[j] >= "0" && s[j] <= "9") j++;
      }
      const v = Number(s.slice(i, j));
      if (!Number.isFinite(v) && !/e/i.test(s.slice(i, j))) throw new EvalError("bad number");
      out.push({ t: "num", v });
      i = j;
      continue;
    }
    if (c === "\\") {
      let j = i + 1;
      while (j < s.length && /[a-zA-Z]/.test(s[j])) j++;
      if (j === i + 1) {
        // \{ \} \| \, \! and friends
        const n = s[i + 1];
        if (n === "{" || n === "}") out.push({ t: "op", v: n === "{" ? "(" : ")" });
        else if (n === "|") out.push({ t: "op", v: "|" });
        i += 2;
        continue;
      }
      const name = s.slice(i + 1, j);
      i = j;
      if (IGNORED.has(name)) continue;
      out.push({ t: "cmd", v: name });
      continue;
    }
    if (/[a-zA-Z]/.test(c)) { out.push({ t: "id", v: c }); i++; continue; }
    if ("+-*/^!()[]{}|_'".includes(c)) { out.push({ t: "op", v: c }); i++; continue; }
    if (c === "·" || c === "×") { out.push({ t: "op", v: "*" }); i++; continue; }
    throw new EvalError(`unexpected ${c}`);
  }
  return out;
}

/** Values of free variables; a missing name makes evaluation fail. */
export type Env = Readonly<Record<string, number>>;

class Parser {
  private i = 0;
  private depth = 0;
  readonly names = new Set<string>();
  constructor(private readonly toks: Tok[], private readonly env: Env | null) {}

  private peek(): Tok | undefined { return this.toks[this.i]; }
  private isOp(v: string): boolean { const t = this.toks[this.i]; return t !== undefined && t.t === "op" && t.v === v; }
  private isCmd(v: string): boolean { const t = this.toks[this.i]; return t !== undefined && t.t === "cmd" && t.v === v; }
  private expect(v: string): void { if (!this.isOp(v)) throw new EvalError(`expected ${v}`); this.i++; }

  parseAll(): number {
    const v = this.expr();
    if (this.i !== this.toks.length) throw new EvalError("trailing tokens");
    return v;
  }

  private enter(): void { if (++this.depth > MAX_DEPTH) throw new EvalError("too deep"); }

  expr(): number {
    this.enter();
    let v = this.term();
    for (;;) {
      if (this.isOp("+")) { this.i++; v += this.term(); }
      else if (this.isOp("-")) { this.i++; v -= this.term(); }
      else if (this.isCmd("pm") || this.isCmd("mp")) throw new EvalError("± is a set, not a value");
      else break;
    }
    this.depth--;
    return v;
  }

  private startsPrimary(): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.t === "num" || t.t === "id") return true;
    if (t.t === "cmd") return !["cdot", "times", "div", "rfloor", "rceil", "pm", "mp"].includes(t.v);
    return t.v === "(" || t.v === "[" || t.v === "{";
  }

  private term(): number {
    let v = this.unary();
    for (;;) {
      if (this.isOp("*") || this.isCmd("cdot") || this.isCmd("times")) { this.i++; v *= this.unary(); }
      else if (this.isOp("/") || this.isCmd("div")) { this.i++; v /= this.unary(); }
      else if (this.startsPrimary()) v *= this.power(); // implicit product
      else break;
    }
    return v;
  }

  private unary(): number {
    if (this.isOp("-")) { this.i++; this.enter(); const v = -this.unary(); this.depth--; return v; }
    if (this.isOp("+")) { this.i++; this.enter(); const v = this.unary(); this.depth--; return v; }
    return this.power();
  }

  private power(): number {
    const base = this.postfix();
    if (this.isOp("^")) {
      this.i++;
      this.enter();
      const e = this.exponent();
      this.depth--;
      return Math.pow(base, e);
    }
    return base;
  }

  /** The argument of ^: a braced group, a signed atom, or a right-associative power. */
  private exponent(): number {
    if (this.isOp("-")) { this.i++; return -this.exponent(); }
    if (this.isOp("{")) return this.group("{", "}");
    const t = this.peek();
    if (t && t.t === "num") { this.i++; return t.v; } // 2^10 means 2^{10} only when tokenised as one number
    return this.power();
  }

  private postfix(): number {
    let v = this.primary();
    while (this.isOp("!") || this.isOp("'")) {
      if (this.isOp("'")) throw new EvalError("derivative");
      this.i++;
      v = factorial(v);
    }
    return v;
  }

  private group(open: string, close: string): number {
    this.expect(open);
    const v = this.expr();
    this.expect(close);
    return v;
  }

  /** A command's argument: {…} or a single primary (\sqrt2, \frac12 after normalisation). */
  private arg(): number {
    if (this.isOp("{")) return this.group("{", "}");
    const t = this.peek();
    if (t && t.t === "num") { this.i++; return t.v; }
    return this.primary();
  }

  private variable(name: string): number {
    // subscripted names: a_1, C_{1}, x_{0}
    let full = name;
    if (this.isOp("_")) {
      this.i++;
      let depth = 0;
      const parts: string[] = [];
      do {
        const t = this.toks[this.i++];
        if (!t) throw new EvalError("bad subscript");
        if (t.t === "op" && t.v === "{") depth++;
        else if (t.t === "op" && t.v === "}") depth--;
        else parts.push(String(t.v));
      } while (depth > 0);
      full = `${name}_${parts.join("")}`;
    }
    this.names.add(full);
    if (this.env === null) return NaN;
    const v = this.env[full];
    if (v === undefined) throw new EvalError(`unknown ${full}`);
    return v;
  }

  private primary(): number {
    this.enter();
    const v = this.primaryInner();
    this.depth--;
    return v;
  }

  private primaryInner(): number {
    const t = this.peek();
    if (!t) throw new EvalError("unexpected end");
    if (t.t === "num") { this.i++; return t.v; }
    if (t.t === "id") {
      this.i++;
      if (t.v === "e" && !this.isOp("_")) return Math.E;
      return this.variable(t.v);
    }
    if (t.t === "op") {
      if (t.v === "(") return this.group("(", ")");
      if (t.v === "[") return this.group("[", "]");
      if (t.v === "{") return this.group("{", "}");
      if (t.v === "|") { this.i++; const v = this.expr(); this.expect("|"); return Math.abs(v); }
      throw new EvalError(`unexpected ${t.v}`);
    }
    this.i++;
    const name = t.v;
    switch (name) {
      case "frac": case "dfrac": case "tfrac": { const a = this.arg(); const b = this.arg(); return a / b; }
      case "binom": case "dbinom": case "tbinom": return binom(this.arg(), this.arg());
      case "sqrt": {
        if (this.isOp("[")) { const n = this.group("[", "]"); const x = this.arg(); return nthRoot(x, n); }
        return Math.sqrt(this.arg());
      }
      case "pi": return Math.PI;
      case "infty": case "infinity": return Infinity;
      case "lfloor": { const v = this.expr(); if (!this.isCmd("rfloor")) throw new EvalError("no rfloor"); this.i++; return Math.floor(v); }
      case "lceil": { const v = this.expr(); if (!this.isCmd("rceil")) throw new EvalError("no rceil"); this.i++; return Math.ceil(v); }
      default: break;
    }
    if (name in FUNCS) {
      let f = FUNCS[name];
      if (name === "log" && this.isOp("_")) {
        this.i++;
        const b = this.arg();
        f = (x) => Math.log(x) / Math.log(b);
      }
      // \sin^2 x = (\sin x)^2
      let p = 1;
      if (this.isOp("^")) { this.i++; p = this.exponent(); }
      const x = this.isOp("(") || this.isOp("{") ? this.primary() : this.power();
      return Math.pow(f(x), p);
    }
    if (GREEK.has(name)) return this.variable(name);
    throw new EvalError(`unsupported \\${name}`);
  }
}

function factorial(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 170) throw new EvalError("factorial");
  let r = 1;
  for (let k = 2; k <= n; k++) r *= k;
  return r;
}

function binom(n: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(k) || k < 0 || n < 0 || k > n || n > 10_000) throw new EvalError("binom");
  let r = 1;
  for (let j = 1; j <= Math.min(k, n - k); j++) r = (r * (n - Math.min(k, n - k) + j)) / j;
  return Math.round(r);
}

function nthRoot(x: number, n: number): number {
  if (x < 0 && Number.isInteger(n) && n % 2 === 1) return -Math.pow(-x, 1 / n);
  return Math.pow(x, 1 / n);
}

/** The free variables of a LaTeX expression, or null when it does not parse. */
export function latexVariables(s: string): string[] | null {
  try {
    const p = new Parser(tokenize(s), null);
    p.parseAll();
    return [...p.names].sort();
  } catch {
    return null;
  }
}

/**
 * The value of a LaTeX expression, or null when it does not parse or needs a variable `env` lacks.
 * @example evaluateLatex("\\frac{3\\sqrt{3}}{4}") // 1.299…
 */
export function evaluateLatex(s: string, env: Env = {}): number | null {
  try {
    const v = new Parser(tokenize(s), env).parseAll();
    return Number.isNaN(v) ? null : v;
  } catch {
    return null;
  }
}

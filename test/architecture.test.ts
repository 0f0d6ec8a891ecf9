// DESIGN.md's "may import" column, enforced: which project layers each layer may import, that src/rl/ is
// pure, that each third-party runtime has exactly one wrapper module, and that worker entries hold no logic.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

function walk(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.(ts|mts|js|mjs)$/.test(e) && !e.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

const files = [...walk(join(root, "src")), ...walk(join(root, "worker"))].map((f) => relative(root, f).split(sep).join("/"));

/** Import specifiers of a file: static, side-effect, dynamic and require. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specs: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["']([^"']+)["']/g;
  for (const m of text.matchAll(re)) specs.push(m[1]);
  return specs;
}

/** The layer of a project file: src/<dir>/… → dir; src/<name>.ts → name; worker/… → worker. */
function layerOf(file: string): string {
  const parts = file.split("/");
  if (parts[0] === "worker") return "worker";
  return parts.length > 2 ? parts[1] : parts[1].replace(/\.[mc]?[jt]s$/, "");
}

function resolveLocal(file: string, spec: string): string {
  return relative(root, resolve(dirname(join(root, file)), spec)).split(sep).join("/").replace(/\.js$/, ".ts");
}

// Project layers each layer may import (DESIGN.md, "Layout"). "*" = anything in the project.
const mayImport: Record<string, readonly string[]> = {
  types: [],
  config: ["types"],
  trajectories: ["types", "config", "rl"],
  rl: ["types"],
  model: ["types", "config"],
  // engine → protocol: the engine worker host and client speak src/protocol/engine-messages.ts (types only).
  engine: ["types", "config", "model", "protocol"],
  sandbox: ["types"],
  protocol: ["types"],
  agent: ["types", "config", "rl", "engine", "sandbox", "model"],
  trainer: ["types", "config", "rl", "agent", "engine", "sandbox", "model"],
  server: ["types", "config", "protocol", "trajectories", "rl", "sandbox"],
  cli: ["*"],
  worker: ["*"],
};

// Third-party packages each layer may import; node: builtins are allowed outside the pure layers.
const pureLayers = new Set(["types", "rl", "protocol"]);

// Each runtime library and the one module that may import it.
const wrappers: Array<[RegExp, string]> = [
  [/^(quickjs-emscripten|quickjs-emscripten-core|@jitl\/)/, "quickjs"],
  [/^pyodide/, "pyodide"],
  [/^onnxruntime-(web|node|common)/, "onnxruntime"],
  [/^@tensorflow\//, "tfjs"],
  [/^hyparquet/, "parquet"],
];

describe("architecture (DESIGN.md layout)", () => {
  it("finds the project's source files", () => {
    expect(files).toContain("src/rl/index.ts");
    expect(files).toContain("src/types.ts");
  });

  it("every layer imports only the project layers DESIGN.md allows", () => {
    const bad: string[] = [];
    for (const f of files) {
      const layer = layerOf(f);
      const allowed = mayImport[layer];
      if (!allowed) { bad.push(`${f}: layer "${layer}" is not in DESIGN.md's table`); continue; }
      for (const s of importsOf(f)) {
        if (!s.startsWith(".")) continue;
        if (!/\.m?[jt]s$/.test(s)) continue; // not code: the edge worker's wasm and data modules (worker/edge.ts)
        const target = resolveLocal(f, s);
        if (!target.startsWith("src/")) { bad.push(`${f} imports ${s}, outside src/`); continue; }
        const tl = layerOf(target);
        if (tl !== layer && !allowed.includes("*") && !allowed.includes(tl)) bad.push(`${f} (${layer}) imports ${s} (${tl})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("src/rl, src/types.ts and src/protocol are pure: no node:, no third-party, no I/O globals", () => {
    const bad: string[] = [];
    for (const f of files.filter((x) => pureLayers.has(layerOf(x)))) {
      for (const s of importsOf(f)) if (!s.startsWith(".")) bad.push(`${f} imports ${s}`);
      const code = readFileSync(join(root, f), "utf8").replace(/^\s*\/\/.*$/gm, "");
      for (const g of ["process.", "console.", "fetch(", "require(", "Date.now(", "Math.random(", "globalThis", "window.", "document."]) {
        if (code.includes(g)) bad.push(`${f} uses ${g}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("each third-party runtime is imported by exactly one wrapper module", () => {
    const owners = new Map<string, Set<string>>();
    for (const f of files) {
      for (const s of importsOf(f)) {
        for (const [re, name] of wrappers) if (re.test(s)) (owners.get(name) ?? owners.set(name, new Set()).get(name)!).add(f);
      }
    }
    for (const [name, set] of owners) expect([name, [...set]]).toEqual([name, [...set].slice(0, 1)]);
  });

  it("the server never imports an engine implementation", () => {
    const bad = files
      .filter((f) => layerOf(f) === "server")
      .flatMap((f) => importsOf(f).filter((s) => /engine\/(ort-web|tfjs-wasm)/.test(s) || /onnxruntime|@tensorflow/.test(s)).map((s) => `${f} imports ${s}`));
    expect(bad).toEqual([]);
  });

  it("worker entry files hold no logic: a handshake and a dispatch into src/", () => {
    const entries = files.filter((f) => f.startsWith("worker/"));
    for (const f of entries) {
      const code = readFileSync(join(root, f), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .split("\n")
        .filter((l) => l.trim() !== "" && !l.trim().startsWith("//"));
      expect({ f, lines: code.length <= 30 }).toEqual({ f, lines: true });
      expect({ f, classes: /\bclass\s/.test(code.join("\n")) }).toEqual({ f, classes: false });
      expect({ f, importsSrc: importsOf(f).some((s) => s.includes("/src/")) }).toEqual({ f, importsSrc: true });
    }
  });
});

// esbuild targets. Node bundle: the CLI, every worker entry and every benchmark, as ESM with a banner
// that defines require/__dirname/__filename, and mainFields module-first: DESIGN.md's recipe under which
// tfjs registers its gradients and chained ops (plain Node fails on the package's directory imports).
// Usage: node build.mjs [--quiet]
import { build } from "esbuild";
import { readdirSync, readFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const quiet = process.argv.includes("--quiet");

const banner = [
  "import { createRequire as __taorlCreateRequire } from 'node:module';",
  "import { fileURLToPath as __taorlFileURLToPath } from 'node:url';",
  "import { dirname as __taorlDirname } from 'node:path';",
  "const require = __taorlCreateRequire(import.meta.url);",
  "const __filename = __taorlFileURLToPath(import.meta.url);",
  "const __dirname = __taorlDirname(__filename);",
].join("\n");

function entries() {
  const out = { cli: join(root, "src/cli/main.ts") };
  const scan = (dir, suffix, prefix) => {
    if (!existsSync(join(root, dir))) return;
    for (const f of readdirSync(join(root, dir))) {
      if (f.endsWith(suffix)) out[`${prefix}${basename(f, ".ts")}`] = join(root, dir, f);
    }
  };
  scan("worker", ".worker.ts", "");
  scan("bench", ".ts", "bench-");
  return out;
}

export async function buildNode({ log = !quiet } = {}) {
  const outdir = join(root, "dist/node");
  mkdirSync(outdir, { recursive: true });
  const t0 = performance.now();
  await build({
    entryPoints: entries(),
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    mainFields: ["module", "main"],
    banner: { js: banner },
    sourcemap: "linked",
    // Packages that locate their own .wasm/.zip/.node assets relative to their install folder stay external.
    external: ["pyodide", "quickjs-emscripten", "@jitl/*", "onnxruntime-node"],
    logLevel: "warning",
  });
  if (log) console.error(`build: dist/node in ${Math.round(performance.now() - t0)} ms`);
}

/**
 * Edge bundle: the HTTP app as one ESM module for fetch-handler runtimes (workerd, Deno, browsers'
 * service workers). No Node builtins may reach it; esbuild fails the build if one does.
 */
export async function buildEdge({ log = !quiet } = {}) {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const t0 = performance.now();
  const result = await build({
    entryPoints: { worker: join(root, "src/server/edge.ts") },
    outdir: join(root, "dist/edge"),
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "neutral",
    format: "esm",
    target: "es2022",
    mainFields: ["module", "browser", "main"],
    conditions: ["worker", "browser", "import"],
    define: { __TAORL_VERSION__: JSON.stringify(pkg.version) },
    minify: true,
    metafile: true,
    logLevel: "warning",
  });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  if (log) console.error(`build: dist/edge in ${Math.round(performance.now() - t0)} ms (${(bytes / 1024).toFixed(0)} KiB)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildNode();
  await buildEdge();
}

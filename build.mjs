// esbuild targets. Node bundle: the CLI, every worker entry and every benchmark, as ESM with a banner
// that defines require/__dirname/__filename, and mainFields module-first: DESIGN.md's recipe under which
// tfjs registers its gradients and chained ops (plain Node fails on the package's directory imports).
// Usage: node build.mjs [--quiet]
import { build } from "esbuild";
import { copyFileSync, readdirSync, readFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
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

/** Files of the edge worker besides worker.mjs: [module name, source, workerd module type]. */
const edgeModules = [
  ["quickjs.wasm", "node_modules/@jitl/quickjs-wasmfile-release-sync/dist/emscripten-module.wasm", "wasm"],
  ["ort-wasm-simd-threaded.wasm", "node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm", "wasm"],
  ...["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"].map((f) => [`default-policy/${f}`, `models/default/${f}`, "data"]),
];

/** workerd config serving dist/edge: `workerd serve dist/edge/workerd.capnp [--socket-addr http=HOST:PORT]`. */
function workerdConfig() {
  const modules = [`(name = "worker.mjs", esModule = embed "worker.mjs")`, ...edgeModules.map(([name, , type]) => `(name = "${name}", ${type} = embed "${name}")`)];
  const env = ["TAORL_API_TOKEN", "TAORL_MAX_BODY_BYTES", "TAORL_SANDBOX_URL", "TAORL_SANDBOX_TOKEN"];
  return `# The taorl edge worker for workerd (written by build.mjs). Serve it with
#   npx workerd serve dist/edge/workerd.capnp [--socket-addr http=127.0.0.1:8787]
# Settings come from the environment: ${env.join(", ")}.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .taorl),
    # outbound fetch may reach private and local addresses: TAORL_SANDBOX_URL is usually a taorl serve nearby
    (name = "net", network = (allow = ["public", "private"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const taorl :Workerd.Worker = (
  modules = [
    ${modules.join(",\n    ")},
  ],
  compatibilityDate = "2025-01-01",
  globalOutbound = "net",
  bindings = [
    ${env.map((name) => `(name = "${name}", fromEnvironment = "${name}")`).join(",\n    ")},
  ],
);
`;
}

/**
 * Edge bundle (dist/edge/): the HTTP app as one ESM module for fetch-handler runtimes (workerd, Deno,
 * browsers' service workers), the WebAssembly and model files it imports as modules (never compiled from
 * bytes: workerd forbids it), and a workerd config. No Node builtins may reach the bundle; esbuild fails
 * the build if one does.
 */
export async function buildEdge({ log = !quiet } = {}) {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const outdir = join(root, "dist/edge");
  const t0 = performance.now();
  const result = await build({
    entryPoints: { worker: join(root, "worker/edge.ts") },
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "neutral",
    format: "esm",
    target: "es2022",
    mainFields: ["module", "browser", "main"],
    conditions: ["worker", "browser", "import"],
    // the worker's own modules (edgeModules) stay imports; workerd resolves them from its config
    external: ["*.wasm", "./default-policy/*"],
    // the wasm-only build of onnxruntime-web (its ort-wasm-simd-threaded.wasm, 14 MB), not the WebGPU one (28 MB)
    alias: { "onnxruntime-web": "onnxruntime-web/wasm" },
    define: { __TAORL_VERSION__: JSON.stringify(pkg.version) },
    minify: true,
    metafile: true,
    logLevel: "warning",
  });
  for (const [name, source] of edgeModules) {
    mkdirSync(dirname(join(outdir, name)), { recursive: true });
    copyFileSync(join(root, source), join(outdir, name));
  }
  writeFileSync(join(outdir, "workerd.capnp"), workerdConfig());
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  if (log) console.error(`build: dist/edge in ${Math.round(performance.now() - t0)} ms (worker.mjs ${(bytes / 1024).toFixed(0)} KiB)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildNode();
  await buildEdge();
}

// Writes the conformance vectors: `npm run gen:conformance` (from the repository root). The expected values
// come from the naive reference (conformance-cases.ts → naive.ts), never from src/rl/. Stale *.json files
// in the output folder are removed first, so a renamed case leaves nothing behind.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildAll, serialize } from "./conformance-cases.js";

const dir = resolve(process.argv[2] ?? "test/fixtures/conformance");
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (f.endsWith(".json")) rmSync(join(dir, f));
const files = buildAll();
for (const c of files) writeFileSync(join(dir, `${c.name}.json`), serialize(c));
console.log(`wrote ${files.length} conformance cases to ${dir}`);

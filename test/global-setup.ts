// Worker entry points run as bundled files (worker_threads cannot load .ts): build them once per run.
// @ts-expect-error build.mjs is plain JavaScript without declarations
import { buildEdge, buildNode } from "../build.mjs";

export default async function setup(): Promise<void> {
  await buildNode({ log: false });
  await buildEdge({ log: false });
}

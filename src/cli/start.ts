// `taorl start` (npm start): the on-device adaptation demo on the embedded default policy — evaluate on
// held-out problems, adapt with tao-rl for a few minutes (progress bar), evaluate again, write the report.
// Without an embedded policy it shows TAO-RL shaping on the bundled sample rollouts instead.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { UsageError, parseArgs } from "./args.js";
import { runReport } from "./report.js";
import { runShape } from "./shape.js";
import { runTrain } from "./train.js";

export async function runStart(argv: readonly string[], io: { stdout: (s: string) => void; stderr: (s: string) => void; tty?: boolean }, root: string): Promise<void> {
  const { opts, rest } = parseArgs(argv, { values: ["minutes", "model", "eval-problems", "eval-k"], flags: [] });
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const model = opts.model ?? join(root, "models", "default");
  if (!existsSync(join(model, "config.json"))) {
    io.stdout(`taorl start: no embedded policy at ${model}; TAO-RL shaping of the sample rollouts in examples/trajectories.jsonl\n\n`);
    runShape(["--in", join(root, "examples", "trajectories.jsonl")], { stdout: () => {}, stderr: io.stdout });
    return;
  }
  const minutes = opts.minutes ?? "3";
  // the small settings of the ablation (4 groups of 4 rollouts a step, 1 s tool limit): ~4 s steps, so a
  // few minutes hold dozens of updates
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  const dir = join(root, "runs", `demo-${stamp}`);
  io.stdout(`taorl start: on-device TAO-RL adaptation of ${model} for ${minutes} min (Ctrl-C checkpoints and stops)\n`);
  const r = await runTrain(["--model", model, "--out", dir, "--preset", "tao-rl", "--steps", "100000", "--minutes", minutes,
    "--eval-every", "100000", "--eval-problems", opts["eval-problems"] ?? "24", "--eval-k", opts["eval-k"] ?? "4",
    "--config", join(root, "examples", "ablation-small.json")], io, root);
  const first = r.evals[0], last = r.evals[r.evals.length - 1];
  if (first && last && last !== first) {
    io.stdout(`held-out avg@${last.k}: ${first.avg_at_k.toFixed(3)} → ${last.avg_at_k.toFixed(3)}; pass@${last.k}: ${first.pass_at_k.toFixed(3)} → ${last.pass_at_k.toFixed(3)} after ${r.steps} steps\n`);
  }
  const rep = runReport([dir], { stdout: () => {} });
  io.stdout(`report: ${rep.html}\n`);
}

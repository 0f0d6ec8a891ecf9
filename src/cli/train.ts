// `taorl train`: TAO-RL (or an ablation preset) on the task family from a model folder, with a progress
// bar, JSONL metrics, periodic evaluation, checkpoints, exact resume, and Ctrl-C = checkpoint and exit.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PRESETS, ON_DEVICE_LR, resolveOptim, resolveRollout, resolveTaoRl } from "../config.js";
import { taskProblems } from "../agent/tasks.js";
import { SandboxPool } from "../sandbox/node.js";
import { runTraining } from "../trainer/run.js";
import { UsageError, parseArgs } from "./args.js";
import { ProgressBar } from "./progress.js";

export const TRAIN_USAGE = `taorl train [--model models/default] [--out runs/<preset>-s<seed>] [--preset tao-rl]
            [--seed 0] [--steps 50] [--minutes M] [--config cfg.json] [--eval-every 10] [--eval-problems 32] [--eval-k 4]
            [--rollout-workers 0]

  Presets: ${Object.keys(PRESETS).join(", ")}. --config: {"tao": {...}, "rollout": {...}, "optim": {...}}
  with TAO-RL.md option names; it is applied on top of the preset. Re-running with the same --out
  resumes from its checkpoint. Ctrl-C checkpoints after the current step and exits. --rollout-workers N
  runs rollouts (generation and tool calls) in N worker threads, groups split among them; 0 = in this
  thread. The trajectories do not depend on N (bench/e2e measures which N this machine wants).`;

export interface TrainCliResult {
  dir: string;
  steps: number;
  evals: Array<{ step: number; avg_at_k: number; pass_at_k: number; k: number }>;
}

export async function runTrain(argv: readonly string[], io: { stdout: (s: string) => void; stderr: (s: string) => void; tty?: boolean }, root: string): Promise<TrainCliResult> {
  const { opts, rest } = parseArgs(argv, { values: ["model", "out", "preset", "seed", "steps", "minutes", "config", "eval-every", "eval-problems", "eval-k", "rollout-workers"], flags: [] });
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  const preset = opts.preset ?? "tao-rl";
  if (!(preset in PRESETS)) throw new UsageError(`--preset: unknown "${preset}" (valid: ${Object.keys(PRESETS).join(", ")})`);
  const int = (name: string, dflt: number, min = 0) => {
    const v = opts[name] === undefined ? dflt : Number(opts[name]);
    if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name}: expected an integer ≥ ${min}, got ${opts[name]}`);
    return v;
  };
  const minutes = opts.minutes === undefined ? undefined : Number(opts.minutes);
  if (minutes !== undefined && !(minutes > 0)) throw new UsageError(`--minutes: expected a positive number, got ${opts.minutes}`);
  const seed = int("seed", 0), steps = int("steps", 50, 1), evalEvery = int("eval-every", 10), evalN = int("eval-problems", 32), evalK = int("eval-k", 4, 1), rolloutWorkers = int("rollout-workers", 0);
  const model = opts.model ?? join(root, "models", "default");
  if (!existsSync(join(model, "config.json"))) throw new UsageError(`--model ${model}: no config.json (expected a Hugging Face model folder)`);
  let cfg: { tao?: unknown; rollout?: unknown; optim?: unknown } = {};
  if (opts.config) {
    try { cfg = JSON.parse(readFileSync(opts.config, "utf8")); } catch (e) { throw new UsageError(`--config ${opts.config}: ${(e as Error).message}`); }
    const extra = Object.keys(cfg).filter((k) => !["tao", "rollout", "optim"].includes(k));
    if (extra.length) throw new UsageError(`--config ${opts.config}: unknown section(s) ${extra.join(", ")} (expected tao, rollout, optim)`);
  }
  let settings;
  try {
    settings = {
      runSeed: seed,
      tao: resolveTaoRl({ ...PRESETS[preset], ...(cfg.tao as object) }),
      rollout: resolveRollout(cfg.rollout ?? {}),
      optim: resolveOptim({ lr: ON_DEVICE_LR, ...(cfg.optim as object) }),
      microBatch: 8,
    };
  } catch (e) {
    throw new UsageError(`--config: ${(e as Error).message}`);
  }
  const dir = opts.out ?? join(root, "runs", `${preset}-s${seed}`);
  const evalProblems = taskProblems(seed + 1000, "test", evalN);
  const pool = new SandboxPool({ javascriptWorkers: 1 });
  const abort = new AbortController();
  const onSigint = () => { io.stderr("\ninterrupt: checkpointing after this step...\n"); abort.abort(); };
  process.once("SIGINT", onSigint);
  const bar = new ProgressBar(steps, io.stderr, io.tty ?? false, minutes === undefined ? undefined : minutes * 60);
  try {
    io.stdout(`taorl train: preset ${preset}, seed ${seed}, ${minutes === undefined || steps < 100000 ? `${steps} steps` : `${minutes} min`}, model ${model}\nrun folder: ${dir}\n`);
    const r = await runTraining({
      dir, model, settings, preset, steps, checkpointEvery: 5, evalEvery, evalProblems, evalK, runTool: pool.run.bind(pool), signal: abort.signal, rolloutWorkers,
      until: minutes === undefined ? undefined : Date.now() + minutes * 60_000,
      onStep: (m) => bar.update(m.step, `reward ${m.rollout.reward_mean.toFixed(2)} kept ${m.filter.groupsKept}/${m.filter.groups}` +
        ` H ${(m.loss?.entropy_mean ?? 0).toFixed(2)} ${(m.time_ms.total / 1000).toFixed(1)}s/step${m.skipped ? " (skipped)" : ""}`),
      onEval: (e) => io.stderr(`${io.tty ? "\r\x1b[2K" : ""}eval @ step ${e.step}: avg@${e.k} ${e.avg_at_k.toFixed(3)}, pass@${e.k} ${e.pass_at_k.toFixed(3)}, valid exec ${e.valid_exec_rate.toFixed(2)}\n`),
    });
    bar.done();
    io.stdout(`${r.stopped ? "stopped" : "finished"} at step ${r.state.step}${r.resumed ? " (resumed)" : ""}; metrics: ${join(dir, "metrics.jsonl")}, checkpoint: ${join(dir, "checkpoint")}\n`);
    return { dir, steps: r.state.step, evals: r.evals };
  } finally {
    process.removeListener("SIGINT", onSigint);
    await pool.close();
  }
}

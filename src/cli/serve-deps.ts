// The Node side of the HTTP API's generation and job routes (src/server/policy-api.ts):
// - PolicyGenerator: generator.ts's EngineGenerator over the --model folder on onnxruntime-web.
// - JobQueue: evaluation (trainer/evaluate.ts) and training (trainer/run.ts) jobs, one at a time, a bounded
//   queue. Persisted under the jobs folder: <id>/job.json, <id>/events.jsonl and, for training, the run
//   folder <id>/run/. A new queue over the same folder lists the old jobs and takes up the ones that were
//   queued, running or interrupted: training resumes from its checkpoint, evaluation starts over.
import { appendFileSync, closeSync, rmSync, createReadStream, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { Readable } from "node:stream";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { PRESETS, ON_DEVICE_LR, resolveOptim, resolveRollout, resolveTaoRl } from "../config.js";
import type { RolloutProblem } from "../agent/rollout.js";
import { LevelSampler } from "../agent/tasks.js";
import { OrtWebEngine } from "../engine/ort-web.js";
import { loadModelFolder, loadTokenizer } from "../model/checkpoint.js";
import { parseHfConfig } from "../model/config.js";
import type { TextTokenizer } from "../model/tokenizer.js";
import { HttpProblem } from "../server/problem.js";
import {
  CHECKPOINT_FILES, type CheckpointDownload, type CheckpointInfo, type EvaluateRequest,
  type JobEvent, type JobInfo, type JobRunner, type JobSpec, type JobStatus, type TrainRequest,
} from "../server/policy-api.js";
import { evaluate } from "../trainer/evaluate.js";
import { BenchmarksMissingError, evaluationProblems } from "./eval-problems.js";
import { BENCHMARK_NAMES, type BenchmarkName } from "../agent/benchmark-records.js";
import { taskFamily, type TaskSource, type TrainSettings } from "../trainer/loop.js";
import { CHECKPOINT_DIR, STATE_FILE, runTraining } from "../trainer/run.js";
import { EngineGenerator, positionsOf, promptTokens, type LoadedPolicy, type RunTool } from "./generator.js";

export type { RunTool };

/** Why a folder cannot serve as the policy (the routes' 501), or undefined when it has a config.json. */
export function policyUnavailable(model: string): string | undefined {
  return existsSync(join(model, "config.json")) ? undefined : `no config.json in ${model} (start taorl serve with --model DIR, a Hugging Face model folder)`;
}

/** The --model folder on onnxruntime-web, weights baked in (the engine runs many decodes, never updates). */
async function loadOrtPolicy(model: string): Promise<LoadedPolicy> {
  const { config, weights, tokenizer } = await loadModelFolder(model);
  const maxPositions = positionsOf(config.maxPositionEmbeddings);
  const engine = await OrtWebEngine.create(config, { weights, maxPositions, weightsMode: "initializers" });
  return { engine, tokenizer, maxPositions };
}

/** Generation with the --model folder's policy, loaded on first use (see generator.ts). */
export class PolicyGenerator extends EngineGenerator {
  constructor(model: string, runTool: RunTool, maxWaiting = 8) {
    super(() => loadOrtPolicy(model), runTool, maxWaiting);
  }
}

// ---------------------------------------------------------------------------------------------------
// Jobs

export interface JobQueueOptions {
  /** Jobs folder: one subfolder per job. */
  dir: string;
  /** The policy's model folder (HF layout): where training starts and what evaluation measures. */
  model: string;
  runTool: RunTool;
  /** Jobs that may wait behind the running one (default 8); more answer 429. */
  maxQueued?: number;
  /** Where training problems come from (default: the procedural task family, adaptive levels). */
  trainTasks?: TaskSource;
  /** Where evaluation problems come from (default: the procedural family's test split). */
  evalTasks?: (seed: number, count: number, level?: number) => RolloutProblem[];
}

interface Entry {
  info: JobInfo;
  events: JobEvent[];
  listeners: Set<() => void>;
  abort?: AbortController;
}

const TERMINAL: ReadonlySet<JobStatus> = new Set(["completed", "failed", "cancelled", "interrupted"]);
const JOB_FILE = "job.json";
const EVENTS_FILE = "events.jsonl";

const LOCK_FILE = ".lock";

/**
 * One server per jobs folder: two would both take up the same interrupted jobs and write the same run
 * folders. The lock file holds the owner's pid; a lock whose process is gone is taken over.
 */
function lockJobsDir(dir: string): string {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
      return path;
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(path, "utf8").trim());
      let alive = Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid;
      if (alive) {
        try {
          process.kill(pid, 0);
        } catch (err) {
          alive = (err as { code?: string }).code === "EPERM";
        }
      }
      if (alive) throw new JobsDirInUseError(`jobs folder ${dir} is in use by another taorl serve (pid ${pid}): stop it, or pass --jobs DIR`);
      rmSync(path, { force: true }); // stale: its server is gone
    }
  }
  throw new JobsDirInUseError(`could not lock the jobs folder ${dir}`);
}

export class JobsDirInUseError extends Error {
  override name = "JobsDirInUseError";
}

export class JobQueue implements JobRunner {
  private readonly jobs = new Map<string, Entry>();
  private readonly queue: string[] = [];
  private current?: { id: string; done: Promise<void> };
  private closing = false;
  private modelFacts?: Promise<{ tokenizer: TextTokenizer; maxPositions: number }>;

  private readonly lock: string;

  constructor(private readonly o: JobQueueOptions) {
    mkdirSync(o.dir, { recursive: true });
    this.lock = lockJobsDir(o.dir);
    this.restore();
    this.pump();
  }

  async start(spec: JobSpec): Promise<JobInfo> {
    if (this.closing) throw new HttpProblem(503, "the server is shutting down");
    const limit = this.o.maxQueued ?? 8;
    if (this.queue.length >= limit) throw new HttpProblem(429, `${this.queue.length} jobs already wait (limit ${limit}); retry when one has finished`);
    await this.checkFits(spec);
    if (this.queue.length >= limit) throw new HttpProblem(429, `${this.queue.length} jobs already wait (limit ${limit}); retry when one has finished`);
    const now = new Date();
    const id = `${spec.kind}-${now.getTime().toString(36)}-${randomBytes(3).toString("hex")}`;
    const entry: Entry = {
      info: { id, kind: spec.kind, status: "queued", created_at: now.toISOString(), request: spec, progress: { step: 0, steps: spec.kind === "train" ? spec.steps : 1 } },
      events: [],
      listeners: new Set(),
    };
    mkdirSync(join(this.o.dir, id), { recursive: true });
    this.jobs.set(id, entry);
    this.setStatus(entry, "queued");
    this.queue.push(id);
    this.pump();
    return { ...entry.info };
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((e) => ({ ...e.info })).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }

  get(id: string): JobInfo | undefined {
    const e = this.jobs.get(id);
    return e && { ...e.info };
  }

  cancel(id: string): JobInfo | "unknown" | "finished" {
    const e = this.jobs.get(id);
    if (!e) return "unknown";
    if (TERMINAL.has(e.info.status)) return "finished";
    if (e.info.status === "queued") {
      this.queue.splice(this.queue.indexOf(id), 1);
      this.setStatus(e, "cancelled", { finished_at: new Date().toISOString() });
    } else {
      e.info.cancel_requested = true;
      this.persist(e);
      this.emit(e, "status", { status: e.info.status, cancel_requested: true });
      e.abort?.abort();
    }
    return { ...e.info };
  }

  events(id: string, after: number, signal?: AbortSignal): AsyncIterable<JobEvent> | undefined {
    const e = this.jobs.get(id);
    if (!e) return undefined;
    return (async function* () {
      let next = Math.min(after, e.events.length); // events[k] has id k + 1
      for (;;) {
        while (next < e.events.length) yield e.events[next++];
        if (TERMINAL.has(e.info.status) || signal?.aborted) return;
        await new Promise<void>((resolve) => {
          const wake = () => { e.listeners.delete(wake); signal?.removeEventListener("abort", wake); resolve(); };
          e.listeners.add(wake);
          signal?.addEventListener("abort", wake, { once: true });
        });
      }
    })();
  }

  /**
   * Stops taking jobs; a running training job checkpoints after its current step and becomes
   * "interrupted" (resumed by the next queue over this folder). An evaluation cannot stop mid-way: it is
   * marked interrupted at once and starts over next time.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const cur = this.current;
    if (cur) {
      const e = this.jobs.get(cur.id)!;
      if (e.info.kind === "train") {
        e.abort?.abort();
        await cur.done;
      } else {
        this.setStatus(e, "interrupted", { finished_at: new Date().toISOString() });
      }
    }
    rmSync(this.lock, { force: true });
  }

  checkpoints(): CheckpointInfo[] {
    const out: CheckpointInfo[] = [];
    for (const info of this.list()) {
      if (info.kind !== "train") continue;
      const dir = join(this.jobDir(info.id), "run", CHECKPOINT_DIR);
      let step: number, saved: Date;
      try {
        const st = statSync(join(dir, STATE_FILE));
        step = Number((JSON.parse(readFileSync(join(dir, STATE_FILE), "utf8")) as { state?: { step?: unknown } }).state?.step);
        saved = st.mtime;
      } catch {
        continue; // no checkpoint yet, or one being replaced right now
      }
      const files = CHECKPOINT_FILES.flatMap((name) => {
        try {
          return [{ name, bytes: statSync(join(dir, name)).size, url: `/v1/checkpoints/${info.id}/${name}` }];
        } catch {
          return [];
        }
      });
      out.push({ job: info.id, step: Number.isSafeInteger(step) ? step : 0, saved_at: saved.toISOString(), files });
    }
    return out;
  }

  checkpointFile(job: string, file: string): CheckpointDownload | undefined {
    // only names from the fixed list and ids of known jobs reach the file system
    const info = this.get(job);
    if (!info || info.kind !== "train" || !CHECKPOINT_FILES.includes(file)) return undefined;
    let fd: number;
    try {
      // an open descriptor keeps reading the same file while a new checkpoint replaces the folder
      fd = openSync(join(this.jobDir(job), "run", CHECKPOINT_DIR, file), "r");
    } catch {
      return undefined;
    }
    try {
      const bytes = fstatSync(fd).size;
      const body = Readable.toWeb(createReadStream("", { fd, autoClose: true })) as unknown as ReadableStream<Uint8Array>;
      return { bytes, body };
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  // --- internals ---

  private jobDir(id: string): string {
    return join(this.o.dir, id);
  }

  private persist(e: Entry): void {
    const path = join(this.jobDir(e.info.id), JOB_FILE);
    writeFileSync(`${path}.tmp`, `${JSON.stringify(e.info, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  }

  private emit(e: Entry, event: string, data: unknown): void {
    const ev: JobEvent = { id: e.events.length + 1, event, time: new Date().toISOString(), data };
    e.events.push(ev);
    appendFileSync(join(this.jobDir(e.info.id), EVENTS_FILE), `${JSON.stringify(ev)}\n`);
    for (const wake of [...e.listeners]) wake();
  }

  private setStatus(e: Entry, status: JobStatus, extra: Partial<JobInfo> = {}): void {
    Object.assign(e.info, extra, { status });
    this.persist(e);
    const { error, result } = e.info;
    this.emit(e, "status", { status, ...(error !== undefined ? { error } : {}), ...(TERMINAL.has(status) && result ? { result } : {}) });
  }

  /** Reads the jobs folder: past jobs are listed; queued, running and interrupted ones are queued again. */
  private restore(): void {
    const found: Entry[] = [];
    for (const name of readdirSync(this.o.dir)) {
      const path = join(this.o.dir, name, JOB_FILE);
      if (!existsSync(path)) continue;
      let info: JobInfo;
      try { info = JSON.parse(readFileSync(path, "utf8")) as JobInfo; } catch { continue; }
      if (info.id !== name) continue;
      const events: JobEvent[] = [];
      const evPath = join(this.o.dir, name, EVENTS_FILE);
      if (existsSync(evPath)) {
        for (const line of readFileSync(evPath, "utf8").split("\n")) {
          if (!line.trim()) continue;
          try { events.push({ ...(JSON.parse(line) as JobEvent), id: events.length + 1 }); } catch { /* a line cut by a crash */ }
        }
      }
      found.push({ info, events, listeners: new Set() });
    }
    found.sort((a, b) => a.info.created_at.localeCompare(b.info.created_at) || a.info.id.localeCompare(b.info.id));
    for (const e of found) {
      this.jobs.set(e.info.id, e);
      if (TERMINAL.has(e.info.status) && e.info.status !== "interrupted") continue;
      if (e.info.cancel_requested) {
        this.setStatus(e, "cancelled", { finished_at: e.info.finished_at ?? new Date().toISOString() });
        continue;
      }
      const was = e.info.status;
      delete e.info.finished_at;
      this.setStatus(e, "queued", {});
      this.emit(e, "restart", { was, resume: e.info.kind === "train" ? "from the last checkpoint" : "from the start" });
      this.queue.push(e.info.id);
    }
  }

  private pump(): void {
    if (this.current || this.closing) return;
    const id = this.queue.shift();
    if (id === undefined) return;
    const e = this.jobs.get(id)!;
    e.abort = new AbortController();
    this.setStatus(e, "running", { started_at: new Date().toISOString() });
    const done = (async () => {
      try {
        const r = await (e.info.request.kind === "train" ? this.runTrain(e, e.info.request, e.abort!.signal) : this.runEvaluate(e, e.info.request));
        if (e.info.status !== "running") return; // interrupted by close() meanwhile
        const status: JobStatus = e.info.cancel_requested ? "cancelled" : r.stopped ? "interrupted" : "completed";
        this.setStatus(e, status, { finished_at: new Date().toISOString(), result: r.result });
      } catch (err) {
        if (e.info.status !== "running") return;
        this.setStatus(e, "failed", { finished_at: new Date().toISOString(), error: (err as Error).message ?? String(err) });
      }
    })();
    this.current = { id, done };
    void done.then(() => {
      this.current = undefined;
      this.pump();
    });
  }

  private evalProblems(seed: number, count: number, level?: number): RolloutProblem[] {
    return this.o.evalTasks ? this.o.evalTasks(seed, count, level) : evaluationProblems({ seed, problems: count, level });
  }

  /** An evaluation job's problems: the task family's split (evalTasks stands in for its test split), or a benchmark. */
  private problemsFor(spec: EvaluateRequest): RolloutProblem[] {
    if (!spec.benchmark && (spec.split ?? "test") === "test") return this.evalProblems(spec.seed, spec.problems, spec.level);
    const benchmark = spec.benchmark as BenchmarkName | undefined;
    if (benchmark !== undefined && !BENCHMARK_NAMES.includes(benchmark)) {
      throw new HttpProblem(400, "unknown benchmark", [{ path: "benchmark", message: `${JSON.stringify(benchmark)} is not one of ${BENCHMARK_NAMES.join(", ")}` }]);
    }
    try {
      return evaluationProblems({ ...spec, benchmark });
    } catch (e) {
      if (e instanceof BenchmarksMissingError) throw new HttpProblem(501, `this server has no benchmark files: ${e.message}`);
      throw e;
    }
  }

  private facts(): Promise<{ tokenizer: TextTokenizer; maxPositions: number }> {
    this.modelFacts ??= (async () => {
      const cfg = parseHfConfig(JSON.parse(readFileSync(join(this.o.model, "config.json"), "utf8")));
      return { tokenizer: await loadTokenizer(this.o.model), maxPositions: positionsOf(cfg.maxPositionEmbeddings) };
    })();
    return this.modelFacts;
  }

  /**
   * 400 when the response budget after the evaluation prompts, or after a sample of the first step's
   * training prompts, exceeds the model's positions (the engines would refuse them mid-job).
   */
  private async checkFits(spec: JobSpec): Promise<void> {
    const { tokenizer, maxPositions } = await this.facts();
    const check = (problems: RolloutProblem[], rolloutInput: unknown, field: string, which: string) => {
      const budget = resolveRollout(rolloutInput ?? {}).max_response_tokens;
      const longest = Math.max(0, ...promptTokens(tokenizer, problems.map((p) => p.question)));
      if (problems.length > 0 && longest + budget > maxPositions) {
        throw new HttpProblem(400, "the response budget does not fit the model", [
          { path: field, message: `${budget} response tokens after the longest ${which} prompt (${longest} tokens) exceed the model's ${maxPositions} positions` },
        ]);
      }
    };
    if (spec.kind === "evaluate") {
      check(this.problemsFor(spec), spec.rollout, "rollout.max_response_tokens", "evaluation");
      return;
    }
    const field = "config.rollout.max_response_tokens";
    check((this.o.trainTasks ?? taskFamily)(new LevelSampler(), spec.seed, 0, 16), spec.config?.rollout, field, "training");
    check(this.evalProblems(spec.seed + 1000, spec.eval_every > 0 ? spec.eval_problems : 0), spec.config?.rollout, field, "evaluation");
  }

  private async runTrain(e: Entry, spec: TrainRequest, signal: AbortSignal): Promise<{ stopped: boolean; result: Record<string, unknown> }> {
    const cfg = spec.config ?? {};
    const settings: TrainSettings = {
      runSeed: spec.seed,
      tasks: this.o.trainTasks,
      tao: resolveTaoRl({ ...PRESETS[spec.preset], ...cfg.tao }),
      rollout: resolveRollout(cfg.rollout ?? {}),
      optim: resolveOptim({ lr: ON_DEVICE_LR, ...cfg.optim }),
      microBatch: 8,
    };
    const dir = join(this.jobDir(e.info.id), "run");
    const r = await runTraining({
      dir, model: this.o.model, settings, preset: spec.preset, steps: spec.steps, checkpointEvery: spec.checkpoint_every,
      evalEvery: spec.eval_every, evalProblems: this.evalProblems(spec.seed + 1000, spec.eval_problems), evalK: spec.eval_k,
      runTool: this.o.runTool, signal,
      onStep: (m) => {
        e.info.progress = { step: m.step, steps: spec.steps };
        this.persist(e);
        this.emit(e, "progress", { ...e.info.progress });
        this.emit(e, "metrics", m);
      },
      onEval: (ev) => this.emit(e, "eval", ev),
    });
    return {
      stopped: r.stopped,
      result: {
        step: r.state.step, steps: spec.steps, resumed: r.resumed, stopped: r.stopped, last_eval: r.evals.at(-1) ?? null,
        run_dir: dir, checkpoint: join(dir, CHECKPOINT_DIR), metrics: join(dir, "metrics.jsonl"),
      },
    };
  }

  private async runEvaluate(e: Entry, spec: EvaluateRequest): Promise<{ stopped: boolean; result: Record<string, unknown> }> {
    const { config, weights, tokenizer } = await loadModelFolder(this.o.model);
    const engine = await OrtWebEngine.create(config, { weights, maxPositions: positionsOf(config.maxPositionEmbeddings), weightsMode: "initializers" });
    try {
      const problems = this.problemsFor(spec);
      const res = await evaluate({ engine, tokenizer, runTool: this.o.runTool }, problems, resolveRollout(spec.rollout ?? {}), spec.seed, spec.k);
      e.info.progress = { step: 1, steps: 1 };
      this.emit(e, "eval", res);
      return { stopped: false, result: { ...res } };
    } finally {
      engine.dispose();
    }
  }
}

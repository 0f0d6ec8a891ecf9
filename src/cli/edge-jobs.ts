// Evaluation jobs on the edge, where nothing may outlive its request (workerd cancels work left running
// after the response, and a request cannot wait on another's promises): POST /v1/evaluate runs the whole
// evaluation inside the request and answers the finished job (200, not Node's 202). The job record and
// its events stay in this isolate's memory (the most recent `keep` jobs) for GET /v1/jobs, /v1/jobs/:id
// and /v1/jobs/:id/events, and are lost when the isolate restarts: records say so (`persisted: false`).
// Training answers 501. Same request schema, job record and events as Node's JobQueue (serve-deps.ts).
import { resolveRollout } from "../config.js";
import type { RolloutProblem } from "../agent/rollout.js";
import { taskProblems } from "../agent/tasks.js";
import { HttpProblem } from "../server/problem.js";
import type { CheckpointDownload, CheckpointInfo, EvaluateRequest, JobEvent, JobInfo, JobRunner, JobSpec, JobStatus } from "../server/policy-api.js";
import { evaluate } from "../trainer/evaluate.js";
import { promptTokens, type EngineGate, type LoadedPolicy, type RunTool } from "./generator.js";

export const TRAINING_ON_THE_EDGE =
  "training does not run on the edge (tfjs-wasm updates for minutes, checkpoints on disk): start it on Node (taorl serve, POST /v1/train) or on a GPU cluster";

export interface InRequestJobsOptions {
  /** The policy (shared with generation). */
  policy: () => Promise<LoadedPolicy>;
  runTool: RunTool;
  /** Shared with generation: one engine request at a time. */
  gate: EngineGate;
  /** Most rollouts (problems × k) one request may ask for. Default 128 (the defaults: 32 × 4). */
  maxRollouts?: number;
  /** Finished jobs kept for GET /v1/jobs. Default 32. */
  keep?: number;
  /** Where evaluation problems come from (default: the procedural family's test split, as on Node). */
  evalTasks?: (seed: number, count: number, level?: number) => RolloutProblem[];
}

interface Entry {
  info: JobInfo;
  events: JobEvent[];
}

const TERMINAL: ReadonlySet<JobStatus> = new Set(["completed", "failed", "cancelled", "interrupted"]);


function jobId(kind: string, now: Date): string {
  const r = crypto.getRandomValues(new Uint8Array(3));
  return `${kind}-${now.getTime().toString(36)}-${Array.from(r, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export class InRequestJobs implements JobRunner {
  private readonly jobs = new Map<string, Entry>();

  constructor(private readonly o: InRequestJobsOptions) {}

  async start(spec: JobSpec): Promise<JobInfo> {
    if (spec.kind !== "evaluate") throw new HttpProblem(501, TRAINING_ON_THE_EDGE);
    if (spec.benchmark) throw new HttpProblem(501, "benchmark files are not bundled with the edge worker: evaluate benchmarks on Node (taorl serve), or the task family here");
    const maxRollouts = this.o.maxRollouts ?? 128;
    if (spec.problems * spec.k > maxRollouts) {
      throw new HttpProblem(400, "too many rollouts for one request on the edge", [
        { path: "problems", message: `${spec.problems} problems × k ${spec.k} = ${spec.problems * spec.k} rollouts; the edge evaluates within the request, at most ${maxRollouts}` },
      ]);
    }
    this.o.gate.enter("an evaluation");
    try {
      const split = spec.split ?? "test";
      const problems = split === "test" && this.o.evalTasks ? this.o.evalTasks(spec.seed, spec.problems, spec.level) : taskProblems(spec.seed, split, spec.problems, spec.level);
      const policy = await this.o.policy();
      checkFits(spec, problems, policy);
      const now = new Date();
      const e: Entry = {
        info: { id: jobId(spec.kind, now), kind: spec.kind, status: "queued", created_at: now.toISOString(), request: spec, progress: { step: 0, steps: 1 }, persisted: false },
        events: [],
      };
      this.remember(e);
      this.setStatus(e, "running", { started_at: new Date().toISOString() });
      try {
        const res = await evaluate({ engine: policy.engine, tokenizer: policy.tokenizer, runTool: this.o.runTool }, problems, resolveRollout(spec.rollout ?? {}), spec.seed, spec.k);
        e.info.progress = { step: 1, steps: 1 };
        this.emit(e, "eval", res);
        this.setStatus(e, e.info.cancel_requested ? "cancelled" : "completed", { finished_at: new Date().toISOString(), result: { ...res } });
      } catch (err) {
        this.setStatus(e, "failed", { finished_at: new Date().toISOString(), error: (err as Error)?.message ?? String(err) });
      }
      return { ...e.info };
    } finally {
      this.o.gate.leave();
    }
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((e) => ({ ...e.info }));
  }

  get(id: string): JobInfo | undefined {
    const e = this.jobs.get(id);
    return e && { ...e.info };
  }

  /** An evaluation cannot stop mid-way (as on Node): a running one is marked and ends `cancelled`. */
  cancel(id: string): JobInfo | "unknown" | "finished" {
    const e = this.jobs.get(id);
    if (!e) return "unknown";
    if (TERMINAL.has(e.info.status)) return "finished";
    e.info.cancel_requested = true;
    this.emit(e, "status", { status: e.info.status, cancel_requested: true });
    return { ...e.info };
  }

  /** The events so far; a job still running in another request is not waited for (see the header). */
  events(id: string, after: number): AsyncIterable<JobEvent> | undefined {
    const e = this.jobs.get(id);
    if (!e) return undefined;
    const past = e.events.slice(Math.min(after, e.events.length));
    return (async function* () {
      yield* past;
    })();
  }

  /** No training on the edge, so no checkpoints. */
  checkpoints(): CheckpointInfo[] {
    return [];
  }

  checkpointFile(): CheckpointDownload | undefined {
    return undefined;
  }

  private remember(e: Entry): void {
    this.jobs.set(e.info.id, e);
    const keep = this.o.keep ?? 32;
    for (const [id, old] of this.jobs) {
      if (this.jobs.size <= keep) break;
      if (TERMINAL.has(old.info.status)) this.jobs.delete(id);
    }
  }

  private emit(e: Entry, event: string, data: unknown): void {
    e.events.push({ id: e.events.length + 1, event, time: new Date().toISOString(), data });
  }

  private setStatus(e: Entry, status: JobStatus, extra: Partial<JobInfo> = {}): void {
    Object.assign(e.info, extra, { status });
    const { error, result } = e.info;
    this.emit(e, "status", { status, ...(error !== undefined ? { error } : {}), ...(TERMINAL.has(status) && result ? { result } : {}) });
  }
}

/** 400 when the response budget after the longest evaluation prompt exceeds the model's positions (as on Node). */
function checkFits(spec: EvaluateRequest, problems: RolloutProblem[], policy: LoadedPolicy): void {
  const budget = resolveRollout(spec.rollout ?? {}).max_response_tokens;
  const longest = Math.max(0, ...promptTokens(policy.tokenizer, problems.map((p) => p.question)));
  if (problems.length > 0 && longest + budget > policy.maxPositions) {
    throw new HttpProblem(400, "the response budget does not fit the model", [
      { path: "rollout.max_response_tokens", message: `${budget} response tokens after the longest evaluation prompt (${longest} tokens) exceed the model's ${policy.maxPositions} positions` },
    ]);
  }
}

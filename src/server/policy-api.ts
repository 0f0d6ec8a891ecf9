// Generation and jobs in the HTTP API: request schemas (validation and /openapi.json) and the capabilities
// the app delegates to. The implementations need an engine, so they live on Node (src/cli/serve-deps.ts);
// without them the routes answer 501.
import { z } from "zod";
import { PRESETS, optimSchema, rolloutSchema, taoRlSchema } from "../config.js";


const seedSchema = z.number().int().min(0).max(2 ** 31 - 1);

export const generateRequestSchema = z
  .object({
    prompts: z.array(z.string().min(1).max(8000)).min(1).max(64).optional().describe("user turns; each is wrapped in the tool-use chat prompt"),
    tasks: z
      .object({
        count: z.number().int().min(1).max(64).describe("problems"),
        seed: seedSchema.default(0).describe("which problems (the family is generated from it)"),
        split: z.enum(["train", "test", "ood"]).default("test"),
        level: z.number().int().min(1).max(8).optional().describe("task level 1-8 (default: cycling through the levels)"),
      })
      .strict()
      .optional()
      .describe("instead of prompts: problems of the procedural task family, as the embedded policy was trained on them (the question's numbers as q in the sandbox; rewards against their answers)"),
    n: z.number().int().min(1).max(16).default(1).describe("samples per prompt"),
    max_turns: z.number().int().min(1).max(10).optional().describe("tool turns per trajectory (default 5)"),
    max_response_tokens: z.number().int().min(1).max(4096).optional().describe("response budget per trajectory (default: 1024, or what the model's positions leave)"),
    temperature: z.number().gt(0).max(10).optional().describe("sampling temperature (default 1)"),
    top_p: z.number().gt(0).max(1).optional().describe("nucleus sampling (default 1)"),
    seed: seedSchema.optional().describe("sampling seed (default: random; echoed in the response)"),
    answers: z.array(z.string().max(8000)).optional().describe("reference answers, one per prompt: each trajectory then gets a reward"),
    stream: z.boolean().default(false).describe("answer text/event-stream: a `trajectory` event each, then `done`"),
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.prompts === undefined) === (b.tasks === undefined)) {
      ctx.addIssue({ code: "custom", path: b.prompts ? ["tasks"] : ["prompts"], message: "give either prompts or tasks" });
    }
    if (b.answers && !b.prompts) ctx.addIssue({ code: "custom", path: ["answers"], message: "answers go with prompts (tasks carry their own)" });
    if (b.answers && b.prompts && b.answers.length !== b.prompts.length) {
      ctx.addIssue({ code: "custom", path: ["answers"], message: `expected ${b.prompts.length} answers (one per prompt), got ${b.answers.length}` });
    }
  });
export type GenerateRequest = z.output<typeof generateRequestSchema>;

export interface GeneratedTrajectory {
  prompt_index: number;
  sample: number;
  /** Text after the prompt: policy turns and tool observations. */
  response: string;
  /** The last \boxed{} of the response, or null. */
  answer: string | null;
  turns: Array<{ kind: "code" | "answer" | "void"; outcome?: string; policy_tokens: number; observation_tokens: number }>;
  tool_calls: number;
  valid_tool_calls: number;
  /** 0/1 against `answers[prompt_index]` (or the task's answer); only when answers were given or tasks asked for. */
  reward?: number;
  truncated: boolean;
  void: boolean;
  /** Response tokens (policy and observation). */
  tokens: number;
}

export interface Generator {
  /**
   * Admits a request: resolves once it is queued for the engine, with an iterable that yields the
   * trajectories in order, a batch at a time, as they finish. Rejects with an HttpProblem: 429 when
   * too many requests wait, 400 when a prompt does not fit the model.
   */
  generate(req: GenerateRequest, signal?: AbortSignal): Promise<{ seed: number; batches: AsyncIterable<GeneratedTrajectory[]> }>;
}

const configSectionsSchema = z
  .object({ tao: taoRlSchema.optional(), rollout: rolloutSchema.optional(), optim: optimSchema.optional() })
  .strict()
  .describe("TAO-RL.md option names, applied on top of the preset (optim.lr defaults to 2e-4 here, as in taorl train)");

export const trainRequestSchema = z
  .object({
    preset: z.enum(Object.keys(PRESETS) as [string, ...string[]]),
    steps: z.number().int().min(1).max(10_000),
    seed: seedSchema.default(0),
    config: configSectionsSchema.optional(),
    eval_every: z.number().int().min(0).max(10_000).default(10).describe("evaluate every N steps (0 = never)"),
    eval_problems: z.number().int().min(0).max(256).default(32),
    eval_k: z.number().int().min(1).max(16).default(4),
    checkpoint_every: z.number().int().min(1).max(10_000).default(5),
  })
  .strict();
/** `config` holds the body's sections as sent (validated), so the preset and `lr` defaults apply beneath them. */
export type TrainRequest = Omit<z.output<typeof trainRequestSchema>, "config"> & { config?: z.input<typeof configSectionsSchema> };

export const evaluateRequestSchema = z
  .object({
    model: z.literal("default").optional().describe("only the server's policy (--model) for now"),
    problems: z.number().int().min(1).max(256).default(32).describe("how many problems: of the task family's split, or drawn (seeded) from the benchmark"),
    split: z.enum(["test", "ood"]).default("test").describe("the procedural task family's held-out split: test, or ood (held-out templates)"),
    benchmark: z.string().regex(/^[a-z0-9_]{1,64}$/).optional()
      .describe("a benchmark of the server's benchmark folder instead of the task family: gsm8k_test, gsm8k_train, math500, aime24, aime25, amc23, olympiadbench, minerva, svamp, gsm_hard"),
    level: z.number().int().min(1).max(8).optional().describe("task level 1-8 (default: cycling through the levels); task family only"),
    k: z.number().int().min(1).max(16).default(4).describe("samples per problem (avg@k, pass@k)"),
    seed: seedSchema.default(0),
    rollout: rolloutSchema.optional().describe("rollout options (the eval_* ones apply)"),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.benchmark && b.level !== undefined) ctx.addIssue({ code: "custom", path: ["level"], message: "levels belong to the task family; drop level, or benchmark" });
    if (b.benchmark && b.split !== "test") ctx.addIssue({ code: "custom", path: ["split"], message: "split belongs to the task family; drop split, or benchmark" });
  });
/** `rollout` as sent (validated). */
export type EvaluateRequest = Omit<z.output<typeof evaluateRequestSchema>, "rollout"> & { rollout?: z.input<typeof rolloutSchema> };

export type JobSpec = ({ kind: "train" } & TrainRequest) | ({ kind: "evaluate" } & EvaluateRequest);
/** interrupted: stopped by a server shutdown (a training run checkpointed); resumed when the server restarts. */
export type JobStatus = "queued" | "running" | "completed" | "failed" | "cancelled" | "interrupted";

export interface JobInfo {
  id: string;
  kind: JobSpec["kind"];
  status: JobStatus;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  /** The validated request. */
  request: JobSpec;
  progress: { step: number; steps: number };
  /** Set when a cancel was asked and the job has not stopped yet. */
  cancel_requested?: boolean;
  result?: Record<string, unknown>;
  error?: string;
  /** false where job records live only in memory (the edge bundle): gone when its isolate restarts. */
  persisted?: false;
}

export interface JobEvent {
  /** 1, 2, … per job (the SSE id). */
  id: number;
  /** status | progress | metrics | eval */
  event: string;
  time: string;
  data: unknown;
}

export interface JobRunner {
  /**
   * Queues a job; rejects with an HttpProblem: 429 when the queue is full, 400 when it cannot fit the model,
   * 501 when its kind cannot run here. A runner where nothing may outlive a request (the edge) runs the job
   * to its end first and resolves with the finished record.
   */
  start(spec: JobSpec): Promise<JobInfo>;
  list(): JobInfo[];
  get(id: string): JobInfo | undefined;
  /** Asks a queued or running job to stop; "unknown" and "finished" become 404 and 409. */
  cancel(id: string): JobInfo | "unknown" | "finished";
  /** Past events after `after`, then live ones until the job ends (or `signal` aborts); undefined when unknown. */
  events(id: string, after: number, signal?: AbortSignal): AsyncIterable<JobEvent> | undefined;
  /** The training jobs' latest checkpoints, oldest job first. */
  checkpoints(): CheckpointInfo[];
  /** One file of a job's checkpoint, opened for reading; undefined when the job, checkpoint or file is unknown. */
  checkpointFile(job: string, file: string): CheckpointDownload | undefined;
}

/** The files a checkpoint folder may hold and the API serves (a Hugging Face folder plus optimizer and run state). */
export const CHECKPOINT_FILES: ReadonlyArray<string> = [
  "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json",
  "optimizer.safetensors", "state.json",
];

export interface CheckpointInfo {
  job: string;
  /** Training steps the checkpoint holds. */
  step: number;
  /** When it was written (ISO 8601). */
  saved_at: string;
  files: Array<{ name: string; bytes: number; url: string }>;
}

export interface CheckpointDownload {
  bytes: number;
  body: ReadableStream<Uint8Array>;
}

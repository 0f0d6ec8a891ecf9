// The HTTP API as a factory: `createApp(deps)` returns a hono app that runs on Node (node.ts) and on edge
// workers alike. Handlers parse, delegate, serialise; nothing here knows a runtime or an engine.
// Body size is enforced from Content-Length (hono's bodyLimit middleware costs 6-7× throughput, DESIGN.md).
import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { PRESETS, resolveTaoRl, taoRlSchema } from "../config.js";
import { ShapeError } from "../rl/index.js";
import { RecordError, checkRecord, shapeRecords } from "../trajectories.js";
import { FUSION_LANGUAGES, ToolRequestError, runFusionCode, runTool, type ToolRunner } from "../sandbox/request.js";
import { LANGUAGES, type Language } from "../sandbox/sandbox.js";
import { DASHBOARD_HTML, dashboardCsp } from "./dashboard.js";
import { openApiDocument } from "./openapi.js";
import {
  CHECKPOINT_FILES, evaluateRequestSchema, generateRequestSchema, trainRequestSchema,
  type EvaluateRequest, type GeneratedTrajectory, type Generator, type JobRunner, type JobSpec, type TrainRequest,
} from "./policy-api.js";
import { HttpProblem, problem, type FieldError } from "./problem.js";

export * from "./policy-api.js";

export interface AppDeps {
  /** Package version, reported by /v1/info. */
  version: string;
  /** When set, every /v1 route needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest accepted JSON body in bytes (default 16 MiB). */
  maxBodyBytes?: number;
  /** Extra facts for /v1/info (runtime, engines, limits). */
  info?: () => Record<string, unknown>;
  /** Executes tool calls (the sandbox pool); without it the sandbox routes answer 501. */
  tools?: ToolRunner;
  /** Multi-turn tool-integrated generation with the server's policy; without it /v1/generate answers 501. */
  generator?: Generator;
  /** Evaluation and training jobs; without it the job routes answer 501. */
  jobs?: JobRunner;
  /** Why `generator`/`jobs` are missing (the 501's detail), e.g. "no config.json in models/default". */
  policyUnavailable?: string;
}

export const shapeRequestSchema = z
  .object({
    trajectories: z.array(z.unknown()).min(1).max(100_000),
    config: z.record(z.string(), z.unknown()).optional(),
    refill: z.boolean().optional(),
    seed: z.number().int().optional(),
  })
  .strict();

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
/**
 * /v1/tao/shape pads every record to the longest (rl/'s row-major [B*T] arrays): B × T slots, bounded so a
 * small body (one long record, many short ones) cannot make the server allocate gigabytes. 2^24 slots is
 * ~6× the tokens that fit in a 16 MiB body of equal-length records.
 */
export const MAX_SHAPE_SLOTS = 2 ** 24;

function issuesToFields(issues: ReadonlyArray<z.core.$ZodIssue>, prefix = ""): FieldError[] {
  return issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter((p) => p !== "").join(".");
    const message = i.code === "unrecognized_keys" ? `unknown key(s) ${i.keys.map((k) => `"${k}"`).join(", ")}` : i.message;
    return { path, message };
  });
}

/** Read a JSON body: Content-Length required and bounded, media type JSON, syntax checked. */
async function jsonBody(c: Context, maxBytes: number): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type)) throw new HttpProblem(415, `expected Content-Type application/json, got "${type || "none"}"`);
  const lengthHeader = c.req.header("content-length");
  if (lengthHeader === undefined) throw new HttpProblem(411, "a Content-Length header is required");
  const length = Number(lengthHeader);
  if (!Number.isSafeInteger(length) || length < 0) throw new HttpProblem(400, `invalid Content-Length "${lengthHeader}"`);
  if (length > maxBytes) throw new HttpProblem(413, `body of ${length} bytes exceeds the limit of ${maxBytes} bytes`);
  const text = await c.req.text();
  if (text.length > maxBytes) throw new HttpProblem(413, `body exceeds the limit of ${maxBytes} bytes`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpProblem(400, `malformed JSON: ${(e as Error).message}`);
  }
}

/** Constant-time comparison of two strings (length leaks, content does not). */
function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const maxBody = deps.maxBodyBytes ?? DEFAULT_MAX_BODY;

  app.onError((err, c) => {
    if (err instanceof HttpProblem) return problem(c, err.status, err.detail, err.errors);
    return problem(c, 500, "internal error");
  });
  app.notFound((c) => problem(c, 404, `no route ${c.req.method} ${new URL(c.req.url).pathname}`));

  if (deps.token) {
    const expected = deps.token;
    app.use("*", async (c, next) => {
      // the dashboard page holds no data: it asks the user for the token and sends it on every request
      if (c.req.path === "/health" || c.req.path === "/openapi.json" || c.req.path === "/") return next();
      const auth = c.req.header("authorization") ?? "";
      const m = /^Bearer\s+(.+)$/i.exec(auth);
      if (!m || !sameToken(m[1], expected)) {
        c.header("www-authenticate", 'Bearer realm="taorl"');
        return problem(c, 401, m ? "invalid token" : "missing Authorization: Bearer <token>");
      }
      await next();
    });
  }

  app.get("/health", (c) => c.json({ status: "ok" }));

  app.get("/", async (c) => {
    c.header("content-security-policy", await dashboardCsp());
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    return c.html(DASHBOARD_HTML);
  });

  app.get("/v1/info", (c) =>
    c.json({
      name: "taorl",
      version: deps.version,
      algorithm: "TAO-RL (arXiv 2606.03762)",
      defaults: taoRlSchema.parse({}),
      presets: Object.keys(PRESETS),
      limits: { max_body_bytes: maxBody, max_trajectories: 100_000, max_padded_tokens: MAX_SHAPE_SLOTS },
      ...(deps.info?.() ?? {}),
    }),
  );

  app.get("/openapi.json", (c) => c.json(openApiDocument(deps.version)));

  const tools = (): ToolRunner => {
    if (!deps.tools) throw new HttpProblem(501, "this runtime has no code sandbox (the sandbox pool runs on Node)");
    return deps.tools;
  };

  /** 501 when the request's language has no sandbox here (e.g. Python on the edge without a remote sandbox). */
  const checkLanguage = (runner: ToolRunner, language: unknown) => {
    const why = typeof language === "string" && (LANGUAGES as readonly string[]).includes(language) ? runner.unavailable?.(language as Language) : undefined;
    if (why) throw new HttpProblem(501, why);
  };

  app.post("/v1/sandbox/run", async (c) => {
    const runner = tools();
    const body = await jsonBody(c, maxBody);
    checkLanguage(runner, (body as { language?: unknown } | null)?.language);
    try {
      return c.json(await runTool(runner, body));
    } catch (e) {
      if (e instanceof ToolRequestError) throw new HttpProblem(400, "invalid tool request", e.issues);
      throw e;
    }
  });

  // SandboxFusion's run_code, so trainers that speak it (verl's code tool) can use this sandbox unchanged.
  app.post("/run_code", async (c) => {
    const runner = tools();
    const body = await jsonBody(c, maxBody);
    const language = (body as { language?: unknown } | null)?.language;
    checkLanguage(runner, typeof language === "string" ? FUSION_LANGUAGES[language] : undefined);
    return c.json(await runFusionCode(runner, body));
  });

  const policyMissing = () =>
    new HttpProblem(501, `this runtime has no policy engine: ${deps.policyUnavailable ?? "generation and jobs run on Node (taorl serve --model DIR)"}`);
  const generator = (): Generator => {
    if (!deps.generator) throw policyMissing();
    return deps.generator;
  };
  const jobs = (): JobRunner => {
    if (!deps.jobs) throw policyMissing();
    return deps.jobs;
  };
  const parseBody = <S extends z.ZodType>(schema: S, raw: unknown): z.output<S> => {
    const r = schema.safeParse(raw);
    if (!r.success) throw new HttpProblem(400, "invalid request body", issuesToFields(r.error.issues));
    return r.data;
  };

  app.post("/v1/generate", async (c) => {
    const gen = generator();
    const req = parseBody(generateRequestSchema, await jsonBody(c, maxBody));
    const stop = new AbortController();
    c.req.raw.signal?.addEventListener("abort", () => stop.abort(), { once: true });
    const t0 = Date.now();
    const { seed, batches } = await gen.generate(req, stop.signal);
    if (!req.stream) {
      const trajectories: GeneratedTrajectory[] = [];
      for await (const batch of batches) trajectories.push(...batch);
      return c.json({ seed, trajectories, time_ms: Date.now() - t0 });
    }
    return streamSSE(c, async (s) => {
      s.onAbort(() => stop.abort());
      let count = 0;
      try {
        for await (const batch of batches) {
          for (const t of batch) await s.writeSSE({ event: "trajectory", id: String(++count), data: JSON.stringify(t) });
        }
        await s.writeSSE({ event: "done", data: JSON.stringify({ seed, trajectories: count, time_ms: Date.now() - t0 }) });
      } catch (e) {
        const status = e instanceof HttpProblem ? e.status : 500;
        await s.writeSSE({ event: "error", data: JSON.stringify({ status, detail: e instanceof HttpProblem ? e.detail : "internal error" }) });
      }
    });
  });

  const startJob = async (spec: JobSpec, c: Context) => {
    const job = await jobs().start(spec);
    c.header("location", `/v1/jobs/${job.id}`);
    // 202 for a job that runs on; 200 for one a runner finished before answering (the edge's evaluation)
    return c.json(job, job.status === "queued" || job.status === "running" ? 202 : 200);
  };
  app.post("/v1/train", async (c) => {
    jobs();
    const raw = await jsonBody(c, maxBody);
    const req = parseBody(trainRequestSchema, raw);
    // keep the config sections as sent: resolved later on top of the preset and the trainer's lr default
    const config = (raw as { config?: TrainRequest["config"] }).config;
    return startJob({ kind: "train", ...req, config }, c);
  });
  app.post("/v1/evaluate", async (c) => {
    jobs();
    const raw = await jsonBody(c, maxBody);
    const req = parseBody(evaluateRequestSchema, raw);
    return startJob({ kind: "evaluate", ...req, rollout: (raw as { rollout?: EvaluateRequest["rollout"] }).rollout }, c);
  });
  app.get("/v1/jobs", (c) => c.json({ jobs: jobs().list() }));
  const unknownJob = (id: string) => new HttpProblem(404, `no job "${id}"`);
  app.get("/v1/jobs/:id", (c) => {
    const job = jobs().get(c.req.param("id"));
    if (!job) throw unknownJob(c.req.param("id"));
    return c.json(job);
  });
  app.post("/v1/jobs/:id/cancel", (c) => {
    const id = c.req.param("id");
    const r = jobs().cancel(id);
    if (r === "unknown") throw unknownJob(id);
    if (r === "finished") throw new HttpProblem(409, `job "${id}" has already finished (${jobs().get(id)?.status})`);
    return c.json(r, 202);
  });
  app.get("/v1/jobs/:id/events", (c) => {
    const id = c.req.param("id");
    const lastId = c.req.header("last-event-id") ?? c.req.query("after") ?? "0";
    const after = Number(lastId);
    if (!Number.isSafeInteger(after) || after < 0) throw new HttpProblem(400, `invalid Last-Event-ID / after "${lastId}": expected an event id ≥ 0`);
    const stop = new AbortController();
    const events = jobs().events(id, after, stop.signal);
    if (!events) throw unknownJob(id);
    return streamSSE(c, async (s) => {
      s.onAbort(() => stop.abort());
      for await (const e of events) await s.writeSSE({ event: e.event, id: String(e.id), data: JSON.stringify({ time: e.time, ...(e.data as object) }) });
    });
  });

  app.get("/v1/checkpoints", (c) => c.json({ checkpoints: jobs().checkpoints() }));
  app.get("/v1/checkpoints/:job/:file", (c) => {
    const { job, file } = c.req.param();
    if (!CHECKPOINT_FILES.includes(file)) throw new HttpProblem(404, `no checkpoint file "${file}"; a checkpoint holds ${CHECKPOINT_FILES.join(", ")}`);
    const f = jobs().checkpointFile(job, file);
    if (!f) throw new HttpProblem(404, jobs().get(job) ? `job "${job}" has no checkpoint with ${file}` : `no job "${job}"`);
    return new Response(f.body, {
      headers: {
        "content-type": file.endsWith(".json") ? "application/json" : "application/octet-stream",
        "content-length": String(f.bytes),
        "content-disposition": `attachment; filename="${file}"`,
      },
    });
  });

  app.post("/v1/tao/shape", async (c) => {
    const raw = await jsonBody(c, maxBody);
    const req = shapeRequestSchema.safeParse(raw);
    if (!req.success) throw new HttpProblem(400, "invalid request body", issuesToFields(req.error.issues));
    const cfg = taoRlSchema.safeParse(req.data.config ?? {});
    if (!cfg.success) throw new HttpProblem(400, "invalid config", issuesToFields(cfg.error.issues, "config"));
    const records = [];
    try {
      for (let i = 0; i < req.data.trajectories.length; i++) records.push(checkRecord(req.data.trajectories[i], i + 1));
    } catch (e) {
      if (e instanceof RecordError) {
        const path = ["trajectories", String(e.line - 1), e.field].filter((p) => p !== "").join(".");
        throw new HttpProblem(400, "invalid trajectory", [{ path, message: e.message.replace(/^line \d+: ([^:]+: )?/, "") }]);
      }
      throw e;
    }
    const longest = records.reduce((m, r) => Math.max(m, r.loss_mask.length), 0);
    if (records.length * longest > MAX_SHAPE_SLOTS) {
      throw new HttpProblem(413, `${records.length} records padded to the longest (${longest} tokens) need ${records.length * longest} token slots, over the limit of ${MAX_SHAPE_SLOTS}: send records of similar length together`);
    }
    try {
      const report = shapeRecords(records, resolveTaoRl(req.data.config ?? {}), { refill: req.data.refill, seed: req.data.seed });
      return c.json(report);
    } catch (e) {
      if (e instanceof ShapeError) throw new HttpProblem(400, e.message);
      throw e;
    }
  });

  return app;
}


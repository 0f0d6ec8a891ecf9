// Generation and job routes on real parts: a tiny tool-using Llama (onnxruntime-web for rollouts, tfjs-wasm
// for training), the sandbox pool running its ```python blocks, jobs persisted in a temporary folder.
// The tiny policy cannot solve the procedural task family, so the job queue gets its own tasks here.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hono } from "hono";
import { JobQueue, PolicyGenerator } from "../../src/cli/serve-deps.js";
import { SandboxPool } from "../../src/sandbox/node.js";
import { createApp, type JobInfo } from "../../src/server/app.js";
import { openApiDocument } from "../../src/server/openapi.js";
import { makeToolPolicy, question, tasks } from "../trainer/tiny-policy.js";

const root = mkdtempSync(join(tmpdir(), "taorl-policy-routes-"));
const jobsDir = join(root, "jobs");
const pool = new SandboxPool({ javascriptWorkers: 1 });
const runTool = pool.run.bind(pool);
const evalTasks = (_seed: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: `e${i}`, question: question(i), answer: "1" }));
let model = "";
let generator: PolicyGenerator;
let jobs: JobQueue;
let app: Hono;

const newQueue = () => new JobQueue({ dir: jobsDir, model, runTool, maxQueued: 1, trainTasks: tasks, evalTasks });

beforeAll(async () => {
  model = await makeToolPolicy(root);
  generator = new PolicyGenerator(model, runTool, 1);
  jobs = newQueue();
  app = createApp({ version: "0.0.0-test", token: "t0k", generator, jobs });
}, 120_000);
afterAll(async () => {
  await jobs?.close();
  await generator?.close();
  await pool.close();
  rmSync(root, { recursive: true, force: true });
});

const auth = { authorization: "Bearer t0k" };
function post(path: string, body: unknown, a: Hono = app) {
  const text = JSON.stringify(body);
  return a.request(path, { method: "POST", body: text, headers: { ...auth, "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) } });
}
const get = (path: string, a: Hono = app) => a.request(path, { headers: auth });

interface Sse { event: string; id?: string; data: Record<string, unknown> }
/** Reads a whole text/event-stream (the server closes it when done). */
async function readSse(res: Response): Promise<Sse[]> {
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  return (await res.text()).split("\n\n").filter((b) => b.trim()).map((block) => {
    const f: Record<string, string> = {};
    for (const line of block.split("\n")) {
      const i = line.indexOf(":");
      f[line.slice(0, i)] = (f[line.slice(0, i)] ?? "") + line.slice(i + 1).trimStart();
    }
    return { event: f.event ?? "message", id: f.id, data: JSON.parse(f.data) };
  });
}

const small = { max_turns: 3, max_response_tokens: 64 };
const rollout = { n: 4, max_turns: 3, eval_max_turns: 3, max_turn_tokens: 24, max_response_tokens: 64 };
const trainBody = (o: Record<string, unknown> = {}) => ({
  preset: "tao-rl", steps: 2, seed: 1, eval_every: 2, eval_problems: 2, eval_k: 2,
  config: { tao: { batch_prompts: 2, oversample: 1 }, rollout, optim: { mini_batch_prompts: 2 } }, ...o,
});

describe("POST /v1/generate", () => {
  it("runs tool-integrated rollouts: prompts × n trajectories with tool calls and rewards", async () => {
    const res = await post("/v1/generate", { prompts: [question(0), question(1), question(2)], n: 2, answers: ["1", "2", "1"], seed: 3, ...small });
    expect(res.status).toBe(200);
    const out = await res.json();
    expect(out.seed).toBe(3);
    expect(out.trajectories).toHaveLength(6);
    expect(out.trajectories.map((t: { prompt_index: number; sample: number }) => [t.prompt_index, t.sample])).toEqual([[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]);
    expect(out.trajectories.reduce((n: number, t: { tool_calls: number }) => n + t.tool_calls, 0)).toBeGreaterThan(0);
    for (const t of out.trajectories) {
      expect([0, 1]).toContain(t.reward);
      expect(t.reward).toBe(t.answer === ["1", "2", "1"][t.prompt_index] ? 1 : 0);
      expect(t.tokens).toBeGreaterThan(0);
      expect(t.tokens).toBeLessThanOrEqual(64);
      expect(t.turns.length).toBeGreaterThan(0);
    }
    expect(out.trajectories.some((t: { response: string }) => t.response.includes("```python"))).toBe(true);
    // same seed, same trajectories (rows sample from their own streams)
    const again = await (await post("/v1/generate", { prompts: [question(0), question(1), question(2)], n: 2, answers: ["1", "2", "1"], seed: 3, ...small })).json();
    expect(again.trajectories).toEqual(out.trajectories);
  }, 120_000);

  it("streams server-sent events: a trajectory each, then done; no reward without answers", async () => {
    const res = await post("/v1/generate", { prompts: Array.from({ length: 9 }, (_, i) => question(i)), n: 2, seed: 4, stream: true, ...small });
    expect(res.status).toBe(200);
    const events = await readSse(res);
    const trajs = events.filter((e) => e.event === "trajectory");
    expect(trajs).toHaveLength(18);
    expect(events.at(-1)!.event).toBe("done");
    expect(events.at(-1)!.data).toMatchObject({ seed: 4, trajectories: 18 });
    expect(trajs.reduce((n, e) => n + (e.data.tool_calls as number), 0)).toBeGreaterThan(0);
    expect(trajs.every((e) => !("reward" in e.data))).toBe(true);
    expect(new Set(trajs.map((e) => `${e.data.prompt_index}/${e.data.sample}`)).size).toBe(18);
  }, 120_000);

  it("answers 429 when more requests wait than the queue holds", async () => {
    const body = { prompts: [question(0)], n: 2, seed: 1, ...small };
    const statuses = (await Promise.all([0, 1, 2, 3].map(() => post("/v1/generate", body)))).map((r) => r.status);
    expect(statuses.sort()).toEqual([200, 200, 429, 429]);
    const res = await post("/v1/generate", body);
    expect(res.status).toBe(200); // the queue drains
  }, 120_000);

  it("rejects bad bodies with field paths", async () => {
    const cases: Array<[unknown, string]> = [
      [{ prompts: [] }, "prompts"],
      [{ prompts: ["x"], n: 17 }, "n"],
      [{ prompts: ["x"], answers: ["1", "2"] }, "answers"],
      [{ prompts: ["x"], extra: 1 }, ""],
      [{ prompts: ["x", 3] }, "prompts.1"],
      [{ prompts: ["x".repeat(8001)] }, "prompts.0"],
      [{ prompts: ["x"], top_p: 0 }, "top_p"],
      [{ prompts: ["ok", "x".repeat(300)] }, "prompts.1"], // longer than the tiny model's 256 positions
      [{ prompts: ["x"], max_response_tokens: 4000 }, "prompts.0"],
      [{}, "prompts"],
      [{ prompts: ["x"], tasks: { count: 1 } }, "tasks"],
      [{ tasks: { count: 1 }, answers: ["1"] }, "answers"],
      [{ tasks: { count: 0 } }, "tasks.count"],
      [{ tasks: { count: 1, split: "dev" } }, "tasks.split"],
      [{ tasks: { count: 1 } }, "tasks"], // the task family's prompts are longer than the tiny model's 256 positions
    ];
    for (const [body, path] of cases) {
      const res = await post("/v1/generate", body);
      expect([res.status, res.headers.get("content-type")]).toEqual([400, "application/problem+json"]);
      expect((await res.json()).errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    const train: Array<[unknown, string]> = [
      [{ preset: "nope", steps: 1 }, "preset"],
      [{ preset: "grpo", steps: 0 }, "steps"],
      [{ preset: "grpo", steps: 1, config: { tao: { entropy_bonus_coeff: 1 } } }, "config.tao"],
      [{ preset: "grpo", steps: 1, config: { rollout: { n: 0 } } }, "config.rollout.n"],
      [{ preset: "grpo", steps: 1, config: { data: {} } }, "config"],
      [{ preset: "grpo", steps: 1 }, "config.rollout.max_response_tokens"], // default 1024 > 256 positions
    ];
    for (const [body, path] of train) {
      const res = await post("/v1/train", body);
      expect(res.status).toBe(400);
      expect((await res.json()).errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    for (const [body, path] of [[{ k: 17 }, "k"], [{ problems: 0 }, "problems"], [{ model: "other" }, "model"], [{ level: 9 }, "level"],
      [{ split: "train" }, "split"], [{ benchmark: "nope" }, "benchmark"], [{ benchmark: "aime24", level: 2 }, "level"], [{ benchmark: "gsm8k_test", split: "ood" }, "split"]] as const) {
      const res = await post("/v1/evaluate", body);
      expect(res.status).toBe(400);
      expect((await res.json()).errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect((await app.request("/v1/generate", { method: "POST", body: "{}", headers: { "content-type": "application/json", "content-length": "2" } })).status).toBe(401);
  });
});

describe("jobs", () => {
  it("501 with the reason when the server has no policy", async () => {
    const bare = createApp({ version: "0", policyUnavailable: "no config.json in /nowhere" });
    for (const res of [await post("/v1/generate", { prompts: ["x"] }, bare), await post("/v1/train", trainBody(), bare), await get("/v1/jobs", bare), await get("/v1/jobs/x/events", bare)]) {
      expect(res.status).toBe(501);
      expect((await res.json()).detail).toMatch(/no config\.json in \/nowhere/);
    }
    expect((await post("/v1/evaluate", {}, createApp({ version: "0" }))).status).toBe(501);
  });

  it("a 2-step training job completes with metrics in its events and shows in /v1/jobs", async () => {
    const res = await post("/v1/train", trainBody());
    expect(res.status).toBe(202);
    const job = (await res.json()) as JobInfo;
    expect(res.headers.get("location")).toBe(`/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ kind: "train", progress: { step: 0, steps: 2 } });
    expect(["queued", "running"]).toContain(job.status);
    const events = await readSse(await get(`/v1/jobs/${job.id}/events`));
    expect(events.map((e) => e.event).filter((e) => e === "metrics")).toHaveLength(2);
    const metrics = events.filter((e) => e.event === "metrics").map((e) => e.data);
    expect(metrics.map((m) => m.step)).toEqual([1, 2]);
    expect(metrics[0]).toHaveProperty("rollout.reward_mean");
    expect(events.filter((e) => e.event === "eval").map((e) => e.data.step)).toEqual([0, 2]);
    expect(events.filter((e) => e.event === "status").map((e) => e.data.status)).toEqual(["queued", "running", "completed"]);
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
    const done = (await (await get(`/v1/jobs/${job.id}`)).json()) as JobInfo;
    expect(done).toMatchObject({ status: "completed", progress: { step: 2, steps: 2 }, result: { step: 2, stopped: false } });
    expect(existsSync(join(done.result!.checkpoint as string, "state.json"))).toBe(true);
    expect(readFileSync(done.result!.metrics as string, "utf8").trim().split("\n")).toHaveLength(2);
    const list = (await (await get("/v1/jobs")).json()).jobs as JobInfo[];
    expect(list.map((j) => j.id)).toContain(job.id);
    // replay after an event id: only what came later
    const tail = await readSse(await a(`/v1/jobs/${job.id}/events`, { "last-event-id": String(events.length - 1) }));
    expect(tail.map((e) => e.id)).toEqual([String(events.length)]);
    expect((await post(`/v1/jobs/${job.id}/cancel`, {})).status).toBe(409);
  }, 240_000);

  it("an evaluation job reports avg@k, pass@k and tool statistics", async () => {
    const res = await post("/v1/evaluate", { problems: 3, k: 2, seed: 2, rollout });
    expect(res.status).toBe(202);
    const job = (await res.json()) as JobInfo;
    const events = await readSse(await get(`/v1/jobs/${job.id}/events`));
    expect(events.at(-1)).toMatchObject({ event: "status", data: { status: "completed" } });
    const done = (await (await get(`/v1/jobs/${job.id}`)).json()) as JobInfo;
    expect(done.result).toMatchObject({ problems: 3, k: 2 });
    expect(done.result!.tool_calls_per_traj as number).toBeGreaterThan(0);
    expect(done.result!.avg_at_k as number).toBeGreaterThanOrEqual(0);
  }, 240_000);

  it("a full queue answers 429; cancel stops a queued job at once and a running one with a checkpoint; 404 and 409", async () => {
    const long = await (await post("/v1/train", trainBody({ steps: 1000, eval_every: 0 }))).json() as JobInfo;
    const waiting = await (await post("/v1/train", trainBody({ steps: 1000, eval_every: 0, seed: 2 }))).json() as JobInfo;
    const full = await post("/v1/evaluate", { problems: 1, k: 1, rollout });
    expect(full.status).toBe(429);
    expect(full.headers.get("content-type")).toBe("application/problem+json");
    const c1 = await post(`/v1/jobs/${waiting.id}/cancel`, {});
    expect(c1.status).toBe(202);
    expect((await c1.json()).status).toBe("cancelled");
    const c2 = await post(`/v1/jobs/${long.id}/cancel`, {});
    expect(c2.status).toBe(202);
    expect((await c2.json()).cancel_requested).toBe(true);
    const events = await readSse(await get(`/v1/jobs/${long.id}/events`));
    expect(events.at(-1)).toMatchObject({ event: "status", data: { status: "cancelled" } });
    const job = (await (await get(`/v1/jobs/${long.id}`)).json()) as JobInfo;
    expect(job.status).toBe("cancelled");
    expect(existsSync(join(job.result!.checkpoint as string, "state.json"))).toBe(true);
    expect((job.result!.step as number)).toBeLessThan(1000);
    expect((await post(`/v1/jobs/${long.id}/cancel`, {})).status).toBe(409);
    expect((await post("/v1/jobs/nope/cancel", {})).status).toBe(404);
    expect((await get("/v1/jobs/nope")).status).toBe(404);
    expect((await get("/v1/jobs/nope/events")).status).toBe(404);
  }, 240_000);

  it("a new app over the same jobs folder lists the old jobs and resumes an interrupted training job from its checkpoint", async () => {
    const job = await (await post("/v1/train", trainBody({ steps: 4, eval_every: 0, seed: 5, checkpoint_every: 1 }))).json() as JobInfo;
    const live = jobs.events(job.id, 0)!;
    for await (const e of live) if (e.event === "progress") break;
    await jobs.close(); // what SIGTERM does in taorl serve: checkpoint after the current step
    const stopped = jobs.get(job.id)!;
    expect(stopped.status).toBe("interrupted");
    expect(existsSync(join(jobsDir, job.id, "run", "checkpoint", "state.json"))).toBe(true);
    const before = (await (await get("/v1/jobs")).json()).jobs as JobInfo[];

    jobs = newQueue();
    const app2 = createApp({ version: "0.0.0-test", token: "t0k", generator, jobs });
    const listed = (await (await get("/v1/jobs", app2)).json()).jobs as JobInfo[];
    expect(listed.map((j) => j.id)).toEqual(before.map((j) => j.id));
    expect(listed.filter((j) => j.status === "completed").length).toBeGreaterThanOrEqual(2);
    const events = await readSse(await get(`/v1/jobs/${job.id}/events`, app2));
    expect(events.some((e) => e.event === "restart")).toBe(true);
    const done = (await (await get(`/v1/jobs/${job.id}`, app2)).json()) as JobInfo;
    expect(done).toMatchObject({ status: "completed", result: { step: 4, resumed: true } });
    const steps = readFileSync(done.result!.metrics as string, "utf8").trim().split("\n").map((l) => JSON.parse(l).step);
    expect(steps).toEqual([1, 2, 3, 4]);
  }, 240_000);

  it("/openapi.json describes the new bodies from their zod schemas", () => {
    const doc = openApiDocument("0") as { paths: Record<string, unknown>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
    for (const p of ["/v1/generate", "/v1/train", "/v1/evaluate", "/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/events", "/v1/jobs/{id}/cancel"]) expect(doc.paths).toHaveProperty(p);
    expect(Object.keys(doc.components.schemas.GenerateRequest.properties!)).toContain("answers");
    expect(Object.keys(doc.components.schemas.TrainRequest.properties!)).toEqual(expect.arrayContaining(["preset", "steps", "config"]));
    expect(Object.keys(doc.components.schemas.EvaluateRequest.properties!)).toEqual(expect.arrayContaining(["problems", "k", "level"]));
  });
});

function a(path: string, headers: Record<string, string>) {
  return app.request(path, { headers: { ...auth, ...headers } });
}

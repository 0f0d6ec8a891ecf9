// `taorl serve --model --jobs` over a real socket (the bundled CLI): generation, a training job that
// SIGTERM checkpoints and a restarted server resumes, job events as server-sent events.
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { benchmarksAvailable } from "../../src/agent/benchmarks.js";
import { loadModelFolder } from "../../src/model/checkpoint.js";
import { makeToolPolicy, question } from "../trainer/tiny-policy.js";
import { spawnServe, type Served } from "./spawn-serve.js";

const root = mkdtempSync(join(tmpdir(), "taorl-serve-jobs-"));
const jobsDir = join(root, "jobs");
let model = "";
const procs: ChildProcess[] = [];

// 1024 positions: room for the task family's prompts (~250-470 tokens with this character tokenizer)
beforeAll(async () => { model = await makeToolPolicy(root, 1024); }, 120_000);
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

async function serve(): Promise<Served> {
  const served = await spawnServe(["--model", model, "--jobs", jobsDir], { TAORL_API_TOKEN: "" });
  procs.push(served.proc);
  return served;
}

const postJson = (url: string, body: unknown) => fetch(url, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

/** Reads SSE events from a live stream until `until` says stop; returns them. */
async function readUntil(res: Response, until: (event: string, data: Record<string, unknown>) => boolean): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
  const seen: Array<{ event: string; data: Record<string, unknown> }> = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return seen;
    buf += dec.decode(value, { stream: true });
    let cut: number;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? "message";
      const data = JSON.parse(/^data: ?(.*)$/m.exec(block)?.[1] ?? "{}");
      seen.push({ event, data });
      if (until(event, data)) { await reader.cancel(); return seen; }
    }
  }
}

describe("taorl serve --model --jobs", () => {
  it("generates, and a training job survives SIGTERM: checkpointed, then resumed by the next server", async () => {
    const first = await serve();
    const gen = await postJson(`${first.base}/v1/generate`, { prompts: [question(1)], n: 2, seed: 1, max_turns: 3, max_response_tokens: 64, answers: ["2"] });
    expect(gen.status).toBe(200);
    expect((await gen.json()).trajectories).toHaveLength(2);
    // problems of the task family instead of prompts: each trajectory gets a reward against the task's answer
    const fromTasks = await postJson(`${first.base}/v1/generate`, { tasks: { count: 2, seed: 5, split: "ood" }, n: 2, seed: 1, max_turns: 2, max_response_tokens: 48 });
    expect(fromTasks.status).toBe(200);
    const taskTrajs = (await fromTasks.json()).trajectories as Array<{ prompt_index: number; reward?: number }>;
    expect(taskTrajs.map((t) => t.prompt_index)).toEqual([0, 0, 1, 1]);
    for (const t of taskTrajs) expect([0, 1]).toContain(t.reward);
    // streamed over the socket: 9 prompts × 2 decode in two batches, all arrive before done
    const streamed = await postJson(`${first.base}/v1/generate`, { prompts: Array.from({ length: 9 }, (_, i) => question(i)), n: 2, seed: 2, max_turns: 3, max_response_tokens: 64, stream: true });
    const sse = await readUntil(streamed, () => false);
    expect(sse.filter((e) => e.event === "trajectory")).toHaveLength(18);
    expect(sse.at(-1)).toMatchObject({ event: "done", data: { trajectories: 18 } });

    // evaluation on the task family's ood split, and on a benchmark file where the server has them
    const evalRollout = { eval_max_turns: 2, max_turn_tokens: 24, max_response_tokens: 48 };
    const evals: Array<[Record<string, unknown>, string]> = [[{ split: "ood", problems: 2, k: 1, rollout: evalRollout }, "ood"]];
    if (benchmarksAvailable()) evals.push([{ benchmark: "gsm8k_test", problems: 2, k: 1, rollout: evalRollout }, "gsm8k"]);
    const evalIds: string[] = [];
    for (const [body] of evals) {
      const r = await postJson(`${first.base}/v1/evaluate`, body);
      expect(r.status).toBe(202);
      const id = (await r.json()).id;
      evalIds.push(id);
      const end = await readUntil(await fetch(`${first.base}/v1/jobs/${id}/events`), (event, data) => event === "status" && data.status !== "running" && data.status !== "queued");
      expect(end.at(-1)!.data).toMatchObject({ status: "completed", result: { problems: 2, k: 1 } });
    }

    const rollout = { n: 4, max_turns: 3, max_turn_tokens: 24, max_response_tokens: 64 };
    const started = await postJson(`${first.base}/v1/train`, { preset: "grpo", steps: 1000, seed: 3, eval_every: 0, checkpoint_every: 1000, config: { tao: { batch_prompts: 2, oversample: 1 }, rollout, optim: { mini_batch_prompts: 2 } } });
    expect(started.status).toBe(202);
    const job = await started.json();
    const live = await fetch(`${first.base}/v1/jobs/${job.id}/events`);
    await readUntil(live, (event) => event === "progress");
    first.proc.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const saved = JSON.parse(readFileSync(join(jobsDir, job.id, "job.json"), "utf8"));
    expect(saved.status).toBe("interrupted");
    const step = JSON.parse(readFileSync(join(jobsDir, job.id, "run", "checkpoint", "state.json"), "utf8")).state.step;
    expect(step).toBeGreaterThanOrEqual(1);

    const second = await serve();
    const list = (await (await fetch(`${second.base}/v1/jobs`)).json()).jobs;
    expect(list.map((j: { id: string }) => j.id)).toEqual([...evalIds, job.id]);
    const events = await readUntil(await fetch(`${second.base}/v1/jobs/${job.id}/events`), (event, data) => event === "metrics" && (data.step as number) > step);
    expect(events.some((e) => e.event === "restart")).toBe(true);
    const cancel = await fetch(`${second.base}/v1/jobs/${job.id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(202);
    const end = await readUntil(await fetch(`${second.base}/v1/jobs/${job.id}/events?after=${events.length}`), (event, data) => event === "status" && data.status !== "running");
    expect(end.at(-1)!.data).toMatchObject({ status: "cancelled", result: { resumed: true } });
    expect(existsSync(join(jobsDir, job.id, "run", "checkpoint", "state.json"))).toBe(true);

    // the checkpoint through the API: listed, and every file downloads byte for byte into a loadable folder
    const ckpts = (await (await fetch(`${second.base}/v1/checkpoints`)).json()).checkpoints;
    expect(ckpts).toHaveLength(1);
    const ckptDir = join(jobsDir, job.id, "run", "checkpoint");
    const onDisk = JSON.parse(readFileSync(join(ckptDir, "state.json"), "utf8")).state.step;
    expect(ckpts[0]).toMatchObject({ job: job.id, step: onDisk });
    const names = ckpts[0].files.map((f: { name: string }) => f.name);
    expect(names).toEqual(expect.arrayContaining(["config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors", "state.json"]));
    const copy = join(root, "downloaded");
    mkdirSync(copy);
    for (const f of ckpts[0].files as Array<{ name: string; bytes: number; url: string }>) {
      const r = await fetch(`${second.base}${f.url}`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-length")).toBe(String(f.bytes));
      const bytes = new Uint8Array(await r.arrayBuffer());
      expect(Buffer.compare(Buffer.from(bytes), readFileSync(join(ckptDir, f.name))), f.name).toBe(0);
      writeFileSync(join(copy, f.name), bytes);
    }
    const loaded = await loadModelFolder(copy);
    expect(loaded.weights.size).toBeGreaterThan(0);
    for (const bad of [`/v1/checkpoints/${job.id}/job.json`, `/v1/checkpoints/${job.id}/..%2Fjob.json`, `/v1/checkpoints/nope/config.json`, `/v1/checkpoints/${job.id}/%2e%2e%2f%2e%2e%2fjob.json`]) {
      const r = await fetch(`${second.base}${bad}`);
      expect(r.status, bad).toBe(404);
      expect(r.headers.get("content-type")).toMatch(/problem\+json/);
    }
    second.proc.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 240_000);
});

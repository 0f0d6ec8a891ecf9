// Fuzzing the HTTP API (issue 6 §5): random and malformed methods, paths, headers and bodies against every
// route of apps on real parts (the sandbox pool; a tiny real policy with a job queue), in-process through
// app.request(), then raw bytes on a real socket. Never a 5xx (501 only where an app lacks that part),
// every error is application/problem+json, and afterwards a valid request to each route still succeeds.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobQueue, PolicyGenerator } from "../../src/cli/serve-deps.js";
import { SandboxPool } from "../../src/sandbox/node.js";
import { MAX_SHAPE_SLOTS, createApp, evaluateRequestSchema, generateRequestSchema, trainRequestSchema } from "../../src/server/app.js";
import { startNodeServer, type NodeServer } from "../../src/server/node.js";
import { makeToolPolicy, question, tasks } from "../trainer/tiny-policy.js";

const TOKEN = "fuzz-t0k";
const root = mkdtempSync(join(tmpdir(), "taorl-fuzz-"));
const pool = new SandboxPool({ javascriptWorkers: 1, pythonSpares: 0 });
const runTool = pool.run.bind(pool);
const records = readFileSync(new URL("../../examples/trajectories.jsonl", import.meta.url), "utf8").trim().split("\n").map((l) => JSON.parse(l));
const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();

let generator: PolicyGenerator;
let jobs: JobQueue;
/** Every part: sandbox pool, policy, job queue; a small body limit so real bodies cross it. */
let full: Hono;
/** No sandbox, no policy: those routes answer 501. */
let bare: Hono;

beforeAll(async () => {
  const model = await makeToolPolicy(root);
  generator = new PolicyGenerator(model, runTool, 1);
  const evalTasks = (_seed: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: `e${i}`, question: question(i), answer: "1" }));
  jobs = new JobQueue({ dir: join(root, "jobs"), model, runTool, maxQueued: 1, trainTasks: tasks, evalTasks });
  full = createApp({ version: "0.0.0-fuzz", token: TOKEN, tools: pool, generator, jobs, maxBodyBytes: 256 * 1024 });
  bare = createApp({ version: "0.0.0-fuzz" });
}, 120_000);
afterAll(async () => {
  await jobs?.close();
  await generator?.close();
  await pool.close();
  rmSync(root, { recursive: true, force: true });
});

// ---- valid bodies, one per POST route, and the field paths the mutations aim at --------------------------

const VALID: Record<string, Record<string, unknown>> = {
  "/v1/tao/shape": { trajectories: records.slice(0, 4), config: { clip_ratio_low: 0.2 }, refill: false, seed: 1 },
  "/v1/sandbox/run": { language: "javascript", code: "print(1+1)", timeout_ms: 500, memory_mb: 32, output_bytes: 1000, final_answer: false, session: "s", max_obs_chars: 100 },
  "/run_code": { code: "print(1+1)", language: "python", run_timeout: 1, memory_limit_MB: 64, compile_timeout: 1, stdin: "", files: {}, fetch_files: [] },
  "/v1/generate": { prompts: [question(0)], n: 1, max_turns: 1, max_response_tokens: 8, temperature: 1, top_p: 1, seed: 1, answers: ["1"], stream: false },
  "/v1/evaluate": { problems: 1, level: 1, k: 1, seed: 0, rollout: { max_turns: 1, eval_max_turns: 1, max_turn_tokens: 8, max_response_tokens: 16 } },
  "/v1/train": { preset: "grpo", steps: 1, seed: 0, eval_every: 0, eval_problems: 0, eval_k: 1, checkpoint_every: 1, config: { tao: { batch_prompts: 1, oversample: 1 }, rollout: { n: 2, max_turns: 1, eval_max_turns: 1, max_turn_tokens: 8, max_response_tokens: 16 }, optim: { lr: 1e-3, mini_batch_prompts: 1 } } },
};
const FIELDS: Record<string, Array<Array<string | number>>> = {
  "/v1/tao/shape": [["trajectories"], ["trajectories", 0], ["trajectories", 0, "loss_mask"], ["trajectories", 0, "loss_mask", 3], ["trajectories", 0, "entropy", 20],
    ["trajectories", 1, "group"], ["trajectories", 1, "reward"], ["trajectories", 2, "post_tool"], ["trajectories", 2, "tool_calls"], ["trajectories", 3, "valid_tool_calls"],
    ["trajectories", 3, "void"], ["trajectories", 3, "truncated"], ["trajectories", 0, "__proto__"], ["config"], ["config", "clip_ratio_low"], ["config", "batch_prompts"],
    ["config", "refill"], ["config", "__proto__"], ["config", "constructor"], ["refill"], ["seed"], ["__proto__"], ["extra"]],
  "/v1/sandbox/run": [["language"], ["code"], ["timeout_ms"], ["memory_mb"], ["output_bytes"], ["final_answer"], ["session"], ["max_obs_chars"], ["__proto__"], ["constructor"]],
  "/run_code": [["code"], ["language"], ["run_timeout"], ["memory_limit_MB"], ["compile_timeout"], ["stdin"], ["files"], ["files", "a.py"], ["fetch_files"], ["__proto__"]],
  "/v1/generate": [["prompts"], ["prompts", 0], ["n"], ["max_turns"], ["max_response_tokens"], ["temperature"], ["top_p"], ["seed"], ["answers"], ["answers", 0], ["stream"], ["__proto__"]],
  "/v1/evaluate": [["model"], ["problems"], ["level"], ["k"], ["seed"], ["rollout"], ["rollout", "n"], ["rollout", "max_turns"], ["rollout", "__proto__"], ["__proto__"]],
  "/v1/train": [["preset"], ["steps"], ["seed"], ["eval_every"], ["eval_problems"], ["eval_k"], ["checkpoint_every"], ["config"], ["config", "tao"], ["config", "tao", "batch_prompts"],
    ["config", "rollout", "n"], ["config", "optim", "lr"], ["config", "__proto__"], ["config", "optim", "constructor"], ["__proto__"]],
};
/** Policy routes whose valid bodies start real work (generation, jobs): the fuzz skips those; the check afterwards sends them. */
const STARTS_WORK: Record<string, (v: unknown) => boolean> = {
  "/v1/generate": (v) => generateRequestSchema.safeParse(v).success,
  "/v1/evaluate": (v) => evaluateRequestSchema.safeParse(v).success,
  "/v1/train": (v) => trainRequestSchema.safeParse(v).success,
};

const ROUTES: Array<[string, string]> = [
  ["GET", "/health"], ["GET", "/"], ["GET", "/v1/info"], ["GET", "/openapi.json"], ["GET", "/v1/jobs"], ["GET", "/v1/jobs/:id"], ["GET", "/v1/jobs/:id/events"],
  ["POST", "/v1/jobs/:id/cancel"], ["GET", "/v1/checkpoints"], ["GET", "/v1/checkpoints/:id/model.safetensors"], ["GET", "/v1/checkpoints/train-x/:id"],
  ...Object.keys(VALID).map((p): [string, string] => ["POST", p]),
];

// ---- arbitraries -------------------------------------------------------------------------------------------

const POLLUTION = { polluted: "yes", toString: 1, valueOf: null, hasOwnProperty: "x" };
/** A JSON value of a wrong (or borderline) type for any field, as text: huge numbers and pollution keys included. */
const wrongValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("null", "true", "false", "0", "-1", "-0", "1.5", "1e308", "-1e308", "1e999", "-1e999", "9".repeat(400), "0.0000001", "4294967297",
    '""', '"x"', '"NaN"', '"1"', "[]", "{}", "[[[]]]", '[null]', '{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{"polluted":"yes"}}}',
    JSON.stringify(POLLUTION), '"' + "x".repeat(70_000) + '"', "[" + "1,".repeat(30_000) + "1]"),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
  fc.integer({ min: 1, max: 2000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
);

/** The JSON text of `base` with the value at each path replaced by a JSON text (or deleted, for null). */
function mutate(base: unknown, edits: Array<[Array<string | number>, string | null]>): string {
  const copy = structuredClone(base) as Record<string, unknown>;
  const texts: string[] = [];
  for (const [path, value] of edits) {
    let at: Record<string | number, unknown> = copy;
    for (const k of path.slice(0, -1)) {
      if (typeof at[k] !== "object" || at[k] === null) Object.defineProperty(at, k, { value: {}, enumerable: true, writable: true, configurable: true });
      at = at[k] as Record<string | number, unknown>;
    }
    const last = path[path.length - 1];
    if (value === null) { delete at[last]; continue; }
    // an own property even for "__proto__", so JSON.stringify writes the key
    Object.defineProperty(at, last, { value: `\u0000MUTATION${texts.length}\u0000`, enumerable: true, writable: true, configurable: true });
    texts.push(value);
  }
  return JSON.stringify(copy).replace(/"\\u0000MUTATION(\d+)\\u0000"/g, (_, i: string) => texts[Number(i)]);
}

const malformedJson: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.json(), fc.nat()).map(([j, n]) => j.slice(0, n % Math.max(1, j.length))),
  fc.tuple(fc.json(), fc.nat(), fc.constantFrom("}", "]", ",", ":", '"', "\\", "\u0000", "\ud800", "NaN", "undefined", "'")).map(([j, n, c]) => j.slice(0, n % (j.length + 1)) + c + j.slice(n % (j.length + 1))),
  fc.constantFrom("", " ", "{", "}", "[", "{\"a\":}", "{'a':1}", "{\"a\":1,}", "[1,]", "01", "+1", ".5", "1e", "\"\\x41\"", "\"\\ud800\"", "\ufeff{}", "{}{}", "null null", "tru", "NaN", "Infinity"),
  fc.integer({ min: 1, max: 200_000 }).map((n) => "[".repeat(n)),
  fc.integer({ min: 1, max: 100_000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
  fc.integer({ min: 1, max: 50_000 }).map((n) => '{"a":'.repeat(n) + "1" + "}".repeat(n)),
  fc.integer({ min: 1, max: 50_000 }).map((n) => '{"trajectories":' + "[".repeat(n) + "]".repeat(n) + "}"),
);

const bodyFor = (path: string): fc.Arbitrary<string | Uint8Array> => {
  const route = Object.keys(VALID).find((p) => p === path);
  const options: Array<fc.Arbitrary<string | Uint8Array>> = [
    fc.uint8Array({ maxLength: 4096 }),
    fc.string({ unit: "binary", maxLength: 2000 }),
    malformedJson,
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? "null"),
    wrongValue,
  ];
  if (route) {
    const fields = FIELDS[route];
    options.push(
      fc.array(fc.tuple(fc.constantFrom(...fields), fc.option(wrongValue, { freq: 8 })), { minLength: 1, maxLength: 3 }).map((edits) => mutate(VALID[route], edits)),
      fc.constant(JSON.stringify(VALID[route])),
    );
  }
  return fc.oneof(...options);
};

const junkSegment: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }).map(encodeURIComponent),
  fc.string({ maxLength: 40 }),
  fc.constantFrom("..", ".", "%", "%zz", "%00", "%2e%2e", "%2F", "%252F", "%ff%fe", "%c0%ae", ";", "~", "*", "__proto__", "constructor", "prototype", "hasOwnProperty", " ", "\t", "é", "\u{1F600}", "train-0-abc"),
  fc.integer({ min: 1000, max: 40_000 }).map((n) => "a".repeat(n)),
  fc.integer({ min: 1, max: 2000 }).map((n) => "../".repeat(n)),
);
const query: fc.Arbitrary<string> = fc.oneof(
  fc.constant(""),
  junkSegment.map((s) => `?after=${s}`),
  fc.constantFrom("?after=-1", "?after=1e400", "?after=9007199254740993", "?after=0x10", "?after", "?a=1&a=2", "?__proto__[polluted]=yes", "?#frag", "#frag"),
);
const ODD_PATHS = ["//v1/info", "/v1//info", "/V1/INFO", "/v1/info/", "/v1/./info", "/v1/x/../info", "/v1/%69nfo", "/v1/tao/shape/..", "/%2e%2e/etc/passwd", "/\\..\\..\\etc", "/health?x=" + "y".repeat(50_000)];
/** A path for `route`: itself (its :id junk) with a query, the route plus a junk segment, or junk altogether. */
const pathFor = (route: string): fc.Arbitrary<string> => fc.oneof(
  { arbitrary: fc.tuple(junkSegment, query).map(([id, q]) => route.replace(":id", id) + q), weight: 5 },
  { arbitrary: junkSegment.map((s) => `${route.replace(":id", "x")}/${s}`), weight: 1 },
  { arbitrary: fc.tuple(fc.array(junkSegment, { maxLength: 6 }), query).map(([segs, q]) => "/" + segs.join("/") + q), weight: 1 },
  { arbitrary: fc.constantFrom(...ODD_PATHS), weight: 1 },
);
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND", "X-TAORL", "post", "Get"];
const contentType = fc.oneof(
  { arbitrary: fc.constant("application/json"), weight: 6 },
  { arbitrary: fc.constantFrom("application/json; charset=utf-8", "APPLICATION/JSON", "application/problem+json", "application/vnd.taorl+json", "application/json; charset=utf-16",
    "text/plain", "text/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp", "application/json\t", "json", "*/*", ""), weight: 3 },
  { arbitrary: fc.string({ maxLength: 60 }).filter((s) => /^[\x20-\x7e]*$/.test(s)), weight: 1 },
);
/** Content-Length: the true one (most often), absent, or a lie. */
const contentLength = fc.oneof(
  { arbitrary: fc.constant("true"), weight: 6 },
  { arbitrary: fc.constant("absent"), weight: 1 },
  { arbitrary: fc.constantFrom("-1", "-0", "+5", "5.5", "1e3", "0x10", " 12 ", "", "NaN", "Infinity", "99999999999999999999", String(2 ** 53), String(2 ** 31), "16777217", "0", "1, 1", "abc"), weight: 2 },
  { arbitrary: fc.nat().map(String), weight: 1 },
);
const authorization = fc.oneof(
  { arbitrary: fc.constant(`Bearer ${TOKEN}`), weight: 8 },
  { arbitrary: fc.constantFrom("absent", "Bearer", "Bearer ", `bearer ${TOKEN}`, `Bearer  ${TOKEN}`, `Bearer ${TOKEN} `, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, "Basic dXNlcjpwYXNz",
    `Bearer ${"A".repeat(20_000)}`, "Bearer \u00ff", `Token ${TOKEN}`), weight: 2 },
  { arbitrary: fc.string({ maxLength: 80 }).filter((s) => /^[\x20-\x7e]*$/.test(s)), weight: 1 },
);
const extraHeaders = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom("last-event-id", "accept", "accept-encoding", "transfer-encoding", "expect", "x-forwarded-for", "host", "cookie", "content-encoding", "__proto__", "constructor"),
      fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,30}$/)),
    fc.oneof(fc.constantFrom("-1", "1e400", "9007199254740993", "0", "chunked", "gzip", "100-continue", "*/*", "__proto__", "x".repeat(8000)), fc.string({ maxLength: 100 }).filter((s) => /^[\x20-\x7e]*$/.test(s))),
  ),
  { maxLength: 3 },
);

interface FuzzRequest { method: string; path: string; route: string; headers: Array<[string, string]>; body?: string | Uint8Array }

const requestArb: fc.Arbitrary<FuzzRequest> = fc
  .constantFrom(...ROUTES)
  .chain(([routeMethod, route]) => fc.tuple(fc.constant(route), pathFor(route), fc.oneof({ arbitrary: fc.constant(routeMethod), weight: 4 }, fc.constantFrom(...METHODS)),
    contentType, contentLength, authorization, extraHeaders))
  .chain(([route, path, method, ct, cl, auth, extra]) => {
    const hasBody = !["GET", "HEAD", "Get"].includes(method);
    return (hasBody ? bodyFor(route) : fc.constant(undefined)).map((body): FuzzRequest => {
      const headers: Array<[string, string]> = [];
      if (body !== undefined) headers.push(["content-type", ct]);
      const size = body === undefined ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.length;
      if (cl === "true") { if (body !== undefined) headers.push(["content-length", String(size)]); }
      else if (cl !== "absent") headers.push(["content-length", cl]);
      if (auth !== "absent") headers.push(["authorization", auth]);
      headers.push(...extra);
      return { method, path, route, headers, body };
    });
  });

/** A route's POST with the right headers. */
const routeRequest = fc.tuple(fc.constantFrom(...Object.keys(VALID))).chain(([route]) =>
  bodyFor(route).map((body): FuzzRequest => {
    const size = typeof body === "string" ? Buffer.byteLength(body) : body.length;
    return { method: "POST", path: route, route, body, headers: [["content-type", "application/json"], ["content-length", String(size)], ["authorization", `Bearer ${TOKEN}`]] };
  }),
);

// ---- checks ------------------------------------------------------------------------------------------------

const show = (r: FuzzRequest) => {
  const body = r.body === undefined ? "" : typeof r.body === "string" ? r.body : `<${r.body.length} bytes>`;
  return `${r.method} ${r.path.slice(0, 200)} ${JSON.stringify(r.headers).slice(0, 300)} ${body.slice(0, 300)}`;
};

function startsWork(r: FuzzRequest): boolean {
  const check = STARTS_WORK[r.route];
  if (!check || typeof r.body !== "string") return false;
  try {
    return check(JSON.parse(r.body));
  } catch {
    return false;
  }
}

/** Sends `r` in-process; null when the fetch API itself refuses to build the request (not the server's concern). */
async function send(app: Hono, r: FuzzRequest): Promise<Response | null> {
  let req: Request;
  try {
    const headers = new Headers();
    for (const [k, v] of r.headers) headers.append(k, v);
    req = new Request(`http://localhost${r.path.startsWith("/") ? "" : "/"}${r.path}`, { method: r.method, headers, body: r.body as BodyInit | undefined });
  } catch {
    return null;
  }
  return app.request(req);
}

/** Status < 500 (501 only from an app without that part); errors are problem+json with a matching status. */
async function checkResponse(res: Response, r: FuzzRequest, allow501: boolean): Promise<void> {
  const where = show(r);
  if (res.status >= 500) expect(allow501 && res.status === 501, `${res.status} for ${where}`).toBe(true);
  const type = res.headers.get("content-type") ?? "";
  if (res.status >= 400) {
    expect(type, where).toBe("application/problem+json");
    const text = await res.text();
    if (r.method.toUpperCase() !== "HEAD") {
      const p = JSON.parse(text);
      expect(p.status, where).toBe(res.status);
      expect(typeof p.title, where).toBe("string");
      expect(typeof p.detail, where).toBe("string");
    }
  } else if (type.startsWith("text/event-stream")) {
    await res.body?.cancel();
  } else {
    await res.arrayBuffer();
  }
}

/** Runs the property; returns how often each status was answered (to see the fuzz reach the handlers). */
async function fuzzApp(app: Hono, allow501: boolean, arb: fc.Arbitrary<FuzzRequest>, numRuns: number): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  await fc.assert(
    fc.asyncProperty(arb, async (r) => {
      if (startsWork(r)) return;
      const res = await send(app, r);
      if (!res) return;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      await checkResponse(res, r, allow501);
    }),
    { numRuns, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), verbose: 1 },
  );
  return statuses;
}
const total = (s: Record<number, number>) => Object.values(s).reduce((a, b) => a + b, 0);

const auth = { authorization: `Bearer ${TOKEN}` };
function post(app: Hono, path: string, body: unknown) {
  const text = JSON.stringify(body);
  return app.request(path, { method: "POST", body: text, headers: { ...auth, "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) } });
}

describe("fuzz: in-process, every route", () => {
  it("any method × path × headers × body on the app with every part: never a 5xx, errors are problem+json", async () => {
    const statuses = await fuzzApp(full, false, requestArb, 600);
    expect(total(statuses)).toBeGreaterThan(500);
    for (const s of [200, 400, 401, 404, 411, 413, 415]) expect(statuses[s], `no ${s} in ${JSON.stringify(statuses)}`).toBeGreaterThan(0);
  }, 120_000);

  it("well-framed POSTs with mutated, malformed and hostile bodies on each route: 200 or a 4xx problem", async () => {
    const statuses = await fuzzApp(full, false, routeRequest, 400);
    expect(total(statuses)).toBeGreaterThan(300);
    expect(statuses[200], JSON.stringify(statuses)).toBeGreaterThan(20);
    expect(statuses[400], JSON.stringify(statuses)).toBeGreaterThan(100);
  }, 120_000);

  it("the app without sandbox or policy: 501 where a part is missing, never another 5xx", async () => {
    const statuses = await fuzzApp(bare, true, requestArb, 300);
    expect(total(statuses)).toBeGreaterThan(250);
    expect(statuses[501], JSON.stringify(statuses)).toBeGreaterThan(0);
  }, 120_000);

  it("a shape request padded past the slot limit is a 413, not gigabytes (regression: 3 MB once took 16 GB and 45 s)", async () => {
    const T = 100_000;
    const long = { ...records[0], loss_mask: new Array(T).fill(0), post_tool: new Array(T).fill(0), entropy: new Array(T).fill(0) };
    long.loss_mask[0] = 1;
    const short = { ...records[0], loss_mask: [1], post_tool: [0], entropy: [0] };
    const rss0 = process.memoryUsage().rss;
    const t0 = Date.now();
    const big = createApp({ version: "t" });
    const res = await post(big, "/v1/tao/shape", { trajectories: [long, ...Array.from({ length: 20_000 }, (_, i) => ({ ...short, group: i % 50 }))] });
    expect(res.status).toBe(413);
    expect((await res.json()).detail).toMatch(/20001 records padded to the longest \(100000 tokens\)/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(1024 * 1024 * 1024);
    // right at the limit it is served
    const atLimit = Array.from({ length: 16 }, (_, i) => ({ ...records[i % records.length], ...(i === 0 ? { loss_mask: new Array(MAX_SHAPE_SLOTS / 16).fill(0), post_tool: new Array(MAX_SHAPE_SLOTS / 16).fill(0), entropy: new Array(MAX_SHAPE_SLOTS / 16).fill(0) } : {}) }));
    (atLimit[0].loss_mask as number[])[0] = 1;
    expect((await post(big, "/v1/tao/shape", { trajectories: atLimit })).status).toBe(200);
  }, 60_000);

  it("afterwards: nothing polluted, and a valid request to every route succeeds", async () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    for (const path of ["/health", "/", "/v1/info", "/openapi.json", "/v1/jobs", "/v1/checkpoints"]) {
      const res = await full.request(path, { headers: auth });
      expect([path, res.status]).toEqual([path, 200]);
      await res.arrayBuffer();
    }
    const shaped = await post(full, "/v1/tao/shape", { trajectories: records.slice(0, 16) });
    expect(shaped.status).toBe(200);
    expect((await shaped.json()).records).toHaveLength(16);
    expect(await (await post(full, "/v1/sandbox/run", { language: "javascript", code: "print(6*7)" })).json()).toMatchObject({ status: "ok", stdout: "42\n" });
    expect(await (await post(full, "/v1/sandbox/run", { language: "python", code: "print(6*7)" })).json()).toMatchObject({ status: "ok", stdout: "42\n" });
    expect(await (await post(full, "/run_code", { language: "nodejs", code: "print(1+1)" })).json()).toMatchObject({ status: "Success", run_result: { stdout: "2\n" } });
    const gen = await post(full, "/v1/generate", { prompts: [question(0)], n: 1, max_turns: 1, max_response_tokens: 16, seed: 1 });
    expect(gen.status).toBe(200);
    expect((await gen.json()).trajectories).toHaveLength(1);

    const evaluation = await post(full, "/v1/evaluate", VALID["/v1/evaluate"]);
    expect(evaluation.status).toBe(202);
    const evalId = (await evaluation.json()).id as string;
    const train = await post(full, "/v1/train", VALID["/v1/train"]);
    expect(train.status).toBe(202);
    const trainId = (await train.json()).id as string;
    const cancel = await full.request(`/v1/jobs/${trainId}/cancel`, { method: "POST", headers: auth });
    expect(cancel.status).toBe(202);
    expect((await (await full.request(`/v1/jobs/${encodeURIComponent(trainId)}`, { headers: auth })).json()).status).toMatch(/cancel/);
    const events = await full.request(`/v1/jobs/${evalId}/events`, { headers: auth });
    expect(events.status).toBe(200);
    expect(await events.text()).toMatch(/"status":"completed"/);
    expect((await (await full.request(`/v1/jobs/${evalId}`, { headers: auth })).json()).status).toBe("completed");
  }, 120_000);
});

// ---- raw bytes on a real socket ------------------------------------------------------------------------------

/** Writes raw bytes, reads until the server closes or `waitMs` passes; the status codes of every response seen. */
function rawExchange(port: number, bytes: Buffer, waitMs = 400): Promise<number[]> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1");
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      resolve([...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1])));
    };
    const timer = setTimeout(done, waitMs);
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", done);
    socket.on("close", done);
    socket.on("connect", () => socket.write(bytes));
  });
}

describe("fuzz: raw HTTP/1.1 on a socket", () => {
  let server: NodeServer;
  let port = 0;
  beforeAll(async () => {
    server = await startNodeServer({ version: "0.0.0-fuzz", token: TOKEN, tools: pool, maxBodyBytes: 64 * 1024 }, 0, "127.0.0.1");
    port = Number(new URL(server.url).port);
  });
  afterAll(() => server?.close());

  const target = fc.oneof(fc.constantFrom(...ROUTES).chain(([, r]) => pathFor(r)).map((p) => p.replace(/[\s]/g, "%20")), fc.string({ unit: "binary", maxLength: 200 }), fc.constantFrom("*", "http://evil.example/v1/info", "//", "", "/v1/info HTTP/1.1", "/\u0000"));
  const headerLine = fc.oneof(
    fc.tuple(fc.constantFrom("Content-Length", "content-length", "Transfer-Encoding", "Content-Type", "Authorization", "Host", "Connection", "Expect", "Last-Event-ID"),
      fc.oneof(fc.constantFrom("-1", "1e3", "0x10", "99999999999999999999", "5, 6", "chunked", "chunked, identity", "identity", "gzip", "close", "100-continue", `Bearer ${TOKEN}`, "application/json", ""),
        fc.nat({ max: 100_000 }).map(String), fc.string({ unit: "binary", maxLength: 40 }))).map(([k, v]) => `${k}: ${v}`),
    fc.string({ unit: "binary", maxLength: 80 }),
  );
  const rawRequest = fc.tuple(fc.constantFrom("GET", "POST", "PUT", "HEAD", "DELETE", "BREW", "G\u0000T", ""), target, fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9", ""),
    fc.array(headerLine, { maxLength: 6 }), fc.oneof(bodyFor("/v1/tao/shape"), bodyFor("/v1/sandbox/run"), fc.constant("5\r\nhello\r\nzz\r\n"), fc.constant("0\r\n\r\n")))
    .map(([method, path, version, headers, body]) => Buffer.concat([
      Buffer.from(`${method} ${path} ${version}\r\nHost: 127.0.0.1\r\n${headers.join("\r\n")}${headers.length ? "\r\n" : ""}\r\n`, "utf8"),
      typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body),
    ]));

  it("junk request lines, headers, framing and bodies: no 5xx but 501 (no policy here), and the server keeps serving", async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(rawRequest, async (bytes) => {
        const statuses = await rawExchange(port, bytes);
        if (statuses.length) answered++;
        for (const s of statuses) expect(s < 500 || s === 501, `${s} for ${JSON.stringify(bytes.toString("latin1").slice(0, 300))}`).toBe(true);
      }),
      { numRuns: 150, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), verbose: 1 },
    );
    expect(answered).toBeGreaterThan(50);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const text = JSON.stringify({ language: "javascript", code: "print('alive')" });
    const res = await fetch(`${server.url}/v1/sandbox/run`, { method: "POST", body: text, headers: { ...auth, "content-type": "application/json" } });
    expect(await res.json()).toMatchObject({ status: "ok", stdout: "alive\n" });
  }, 120_000);
});

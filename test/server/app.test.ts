// The HTTP app in-process (app.request): validation, problem details, auth, size limits, shaping.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/server/app.js";

const sample = readFileSync(new URL("../../examples/trajectories.jsonl", import.meta.url), "utf8")
  .trim().split("\n").map((l) => JSON.parse(l));

const app = createApp({ version: "0.0.0-test", maxBodyBytes: 1 << 20 });

function post(path: string, body: unknown, headers: Record<string, string> = {}, a = app) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return a.request(path, {
    method: "POST",
    body: text,
    headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers },
  });
}

const rec = (o: Record<string, unknown> = {}) => ({
  group: "g", reward: 1, loss_mask: [0, 1, 1], post_tool: [0, 0, 1], entropy: [0, 0.5, 1.5],
  tool_calls: 1, valid_tool_calls: 1, void: false, truncated: false, ...o,
});

describe("HTTP API", () => {
  it("GET /health and /v1/info", async () => {
    expect(await (await app.request("/health")).json()).toEqual({ status: "ok" });
    const info = await (await app.request("/v1/info")).json();
    expect(info.version).toBe("0.0.0-test");
    expect(info.defaults.entropy_bonus_coef).toBe(0.01);
    expect(info.limits.max_body_bytes).toBe(1 << 20);
  });

  it("POST /v1/tao/shape gives the same numbers as the CLI's hand-worked case", async () => {
    const res = await post("/v1/tao/shape", { trajectories: [rec({ reward: 1 }), rec({ reward: 0, post_tool: [0, 0, 0], entropy: [0, 1, 1] })] });
    expect(res.status).toBe(200);
    const out = await res.json();
    const A = 0.5 / (Math.sqrt(0.5) + 1e-6);
    const z = 0.5 / (Math.sqrt(0.125) + 1e-8);
    expect(out.records[0].advantage).toBeCloseTo(A, 7);
    expect(out.records[0].token_advantages[2]).toBeCloseTo(A * (1 + 0.01 * z), 7);
    expect(out.records[1].token_advantages[1]).toBeCloseTo(-A, 7);
    expect(out.counts.groupsKept).toBe(1);
    expect(out.bonus.bonus_tokens).toBe(1);
  });

  it("shapes the sample rollouts with a config and refill", async () => {
    const res = await post("/v1/tao/shape", { trajectories: sample, config: { batch_prompts: 8 }, refill: true, seed: 7 });
    expect(res.status).toBe(200);
    const out = await res.json();
    expect(out.counts.groups).toBe(8);
    expect(out.counts.groupsKept).toBe(5);
    expect(out.refill).toEqual({ action: "duplicate", groups: 8, duplicated: 3 });
    expect(out.records).toHaveLength(64 + 24);
  });

  it("rejects bad trajectories with problem details naming the field path", async () => {
    const res = await post("/v1/tao/shape", { trajectories: [rec(), rec({ post_tool: [0] })] });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const p = await res.json();
    expect(p).toMatchObject({ status: 400, title: "Bad Request", detail: "invalid trajectory" });
    expect(p.errors).toEqual([{ path: "trajectories.1.post_tool", message: "length 1 differs from loss_mask's 3" }]);
  });

  it("rejects unknown config keys and unknown body fields by name", async () => {
    const r1 = await post("/v1/tao/shape", { trajectories: [rec()], config: { entropy_bonus_coeff: 1 } });
    expect(r1.status).toBe(400);
    expect((await r1.json()).errors[0]).toEqual({ path: "config", message: 'unknown key(s) "entropy_bonus_coeff"' });
    const r2 = await post("/v1/tao/shape", { trajectories: [rec()], extra: 1 });
    expect((await r2.json()).errors[0].message).toContain('"extra"');
    const r3 = await post("/v1/tao/shape", { trajectories: [] });
    expect((await r3.json()).errors[0].path).toBe("trajectories");
  });

  it("malformed JSON, wrong media type, missing or oversized Content-Length", async () => {
    const bad = await post("/v1/tao/shape", "{nope");
    expect(bad.status).toBe(400);
    expect((await bad.json()).detail).toMatch(/^malformed JSON/);
    expect((await post("/v1/tao/shape", "{}", { "content-type": "text/plain" })).status).toBe(415);
    const noLength = await app.request("/v1/tao/shape", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(noLength.status).toBe(411);
    const big = await post("/v1/tao/shape", "{}", { "content-length": String((1 << 20) + 1) });
    expect(big.status).toBe(413);
    expect((await post("/v1/tao/shape", "{}", { "content-length": "-5" })).status).toBe(400);
  });

  it("garbage bodies never produce a 500", async () => {
    const bodies = ["null", "[]", "1", '"x"', '{"trajectories":null}', '{"trajectories":[null]}', '{"trajectories":[{}]}',
      '{"trajectories":[1,2]}', JSON.stringify({ trajectories: [rec({ loss_mask: "abc" })] }),
      JSON.stringify({ trajectories: [rec({ entropy: [0, "x", 1] })] }), JSON.stringify({ trajectories: [rec()], config: [] }),
      JSON.stringify({ trajectories: [rec()], seed: 1.5 }), JSON.stringify({ trajectories: [rec({ group: { a: 1 } })] })];
    for (const b of bodies) {
      const r = await post("/v1/tao/shape", b);
      expect({ b, status: r.status }).toEqual({ b, status: 400 });
    }
  });

  it("a token protects /v1 but not /health", async () => {
    const secured = createApp({ version: "t", token: "s3cret" });
    expect((await secured.request("/health")).status).toBe(200);
    const r = await secured.request("/v1/info");
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toContain("Bearer");
    expect((await secured.request("/v1/info", { headers: { authorization: "Bearer wrong!" } })).status).toBe(401);
    expect((await secured.request("/v1/info", { headers: { authorization: "Bearer s3cret" } })).status).toBe(200);
    expect((await post("/v1/tao/shape", { trajectories: [rec()] }, {}, secured)).status).toBe(401);
  });

  it("unknown routes are 404 problems; /openapi.json documents the shape route with the real schemas", async () => {
    const r = await app.request("/v1/nope");
    expect(r.status).toBe(404);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
    const doc = await (await app.request("/openapi.json")).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/health", "/v1/info", "/v1/tao/shape"]));
    expect(doc.components.schemas.Trajectory.required).toEqual(expect.arrayContaining(["group", "reward", "loss_mask"]));
    expect(doc.components.schemas.TaoRlConfig.properties.entropy_bonus_coef.default).toBe(0.01);
  });
});

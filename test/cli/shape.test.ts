// `taorl shape` end to end: the bundled CLI (built by the global setup) on real files.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "dist/node/cli.mjs");
const sample = join(root, "examples/trajectories.jsonl");

function taorl(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", cwd: root });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const rec = (o: Record<string, unknown> = {}) => ({
  group: "g", reward: 1, loss_mask: [0, 1, 1], post_tool: [0, 0, 1], entropy: [0, 0.5, 1.5],
  tool_calls: 1, valid_tool_calls: 1, void: false, truncated: false, ...o,
});

const made: string[] = [];
function dir() {
  const d = mkdtempSync(join(tmpdir(), "taorl-shape-"));
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe("taorl shape", () => {
  it("shapes a hand-worked file: GRPO advantages and the post-tool bonus", () => {
    const d = dir();
    const input = join(d, "in.jsonl");
    // one group, rewards 1, 0: mean 0.5, unbiased std √0.5 = 0.70711, A = ±0.5/(0.70711+1e-6)
    // pool = 4 loss tokens with H = 0.5, 1.5, 1, 1: mean 1, population std √(0.125) = 0.35355
    // token 2 of record 0 is post-tool: z = (1.5-1)/0.35355 = 1.41421, Ã = A·(1 + 0.01·1.41421)
    writeFileSync(input, [
      JSON.stringify(rec({ reward: 1 })),
      JSON.stringify(rec({ reward: 0, post_tool: [0, 0, 0], entropy: [0, 1, 1] })),
    ].join("\n"));
    const out = join(d, "out.jsonl");
    const r = taorl("shape", "--in", input, "--out", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/groups kept\s+1/);
    const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    const A = 0.5 / (Math.sqrt(0.5) + 1e-6);
    expect(lines[0].index).toBe(0);
    expect(lines[0].kept).toBe(true);
    expect(lines[0].reasons).toEqual([]);
    expect(lines[0].advantage).toBeCloseTo(A, 7);
    expect(lines[0].token_advantages[0]).toBe(0);
    expect(lines[0].token_advantages[1]).toBeCloseTo(A, 7);
    const z = 0.5 / (Math.sqrt(0.125) + 1e-8);
    expect(lines[0].token_advantages[2]).toBeCloseTo(A * (1 + 0.01 * z), 7);
    expect(lines[1].advantage).toBeCloseTo(-A, 7);
    expect(lines[1].token_advantages).toEqual([0, expect.closeTo(-A, 7), expect.closeTo(-A, 7)]);
  });

  it("reports filter reasons and counts on the sample file", () => {
    const r = taorl("shape", "--in", sample);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(64);
    expect(lines.filter((l) => l.reasons.includes("group_all_correct"))).toHaveLength(8);
    expect(lines.filter((l) => l.reasons.includes("group_all_wrong"))).toHaveLength(8);
    expect(lines.filter((l) => l.reasons.includes("group_overlong"))).toHaveLength(8);
    // dropped and masked trajectories contribute no token
    for (const l of lines) if (!l.kept) expect(l.token_advantages.every((x: number) => x === 0)).toBe(true);
    expect(r.stderr).toMatch(/dropped: all correct \(criterion 2\)\s+1/);
    expect(r.stderr).toMatch(/dropped: overlong\s+1/);
  });

  it("refill duplicates survivors under new group names up to batch_prompts", () => {
    const d = dir();
    const cfg = join(d, "cfg.json");
    writeFileSync(cfg, JSON.stringify({ batch_prompts: 8 }));
    const r = taorl("shape", "--in", sample, "--config", cfg, "--refill", "--seed", "7");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const copies = lines.filter((l) => l.copy_of !== undefined);
    expect(copies).toHaveLength(3 * 8); // 5 groups survive, 3 copies of 8 rollouts
    for (const c of copies) expect(c.group).toMatch(/^prompt-\d~\d+$/);
    expect(r.stderr).toMatch(/duplicated groups\s+3/);
    // same seed, same output
    expect(taorl("shape", "--in", sample, "--config", cfg, "--refill", "--seed", "7").stdout).toBe(r.stdout);
  });

  const bad: Array<[string, string, RegExp]> = [
    ["malformed JSON", "{not json", /line 1: malformed JSON/],
    ["missing field", JSON.stringify({ ...rec(), reward: undefined }), /line 1: reward:/],
    ["length mismatch", JSON.stringify(rec({ post_tool: [0, 1] })), /line 1: post_tool: length 2 differs from loss_mask's 3/],
    ["non-finite reward", JSON.stringify(rec()).replace('"reward":1', '"reward":1e999'), /line 1: reward: .*Infinity/],
    ["NaN entropy on a loss token", JSON.stringify(rec()).replace("1.5]", "null]"), /line 1: entropy\.2:/],
    ["unknown field", JSON.stringify(rec({ rewrd: 1 })), /line 1: unknown field\(s\) "rewrd"/],
    ["more valid than calls", JSON.stringify(rec({ valid_tool_calls: 2 })), /line 1: valid_tool_calls: 2 exceeds tool_calls/],
  ];
  for (const [what, line2, msg] of bad) {
    it(`rejects ${what} with the line and field, exit 2, no output file`, () => {
      const d = dir();
      const input = join(d, "in.jsonl");
      writeFileSync(input, `${JSON.stringify(rec())}\n${line2.replace("line 1", "")}\n`);
      const r = taorl("shape", "--in", input, "--out", join(d, "out.jsonl"));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(msg.source.replace("line 1", "line 2")));
      expect(readdirSync(d)).toEqual(["in.jsonl"]);
    });
  }

  it("rejects an unknown config key, naming it", () => {
    const d = dir();
    const cfg = join(d, "cfg.json");
    writeFileSync(cfg, JSON.stringify({ entropy_bonus_coeff: 0.1 }));
    const r = taorl("shape", "--in", sample, "--config", cfg, "--out", join(d, "o.jsonl"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`unknown key(s) "entropy_bonus_coeff"`);
    expect(existsSync(join(d, "o.jsonl"))).toBe(false);
  });

  it("rejects a config value out of range and a missing input", () => {
    const d = dir();
    const cfg = join(d, "cfg.json");
    writeFileSync(cfg, JSON.stringify({ clip_ratio_low: 2 }));
    expect(taorl("shape", "--in", sample, "--config", cfg).stderr).toMatch(/clip_ratio_low:/);
    const r = taorl("shape", "--in", join(d, "absent.jsonl"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no such file");
    expect(taorl("shape").stderr).toContain("--in is required");
    expect(taorl("shape", "--in", sample, "--bogus").code).toBe(2);
  });

  it("keeps the previous output file when a later run fails", () => {
    const d = dir();
    const out = join(d, "out.jsonl");
    expect(taorl("shape", "--in", sample, "--out", out).code).toBe(0);
    const before = readFileSync(out, "utf8");
    const input = join(d, "bad.jsonl");
    writeFileSync(input, "{}\n");
    expect(taorl("shape", "--in", input, "--out", out).code).toBe(2);
    expect(readFileSync(out, "utf8")).toBe(before);
  });
});

describe("taorl start", () => {
  it("without an embedded policy, prints the shaping table of the bundled sample", () => {
    const r = taorl("start", "--model", join(dir(), "no-model"));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/groups\s+8\n/);
    expect(r.stdout).toMatch(/groups kept\s+5\n/);
  });
});

// `taorl report` on a real (tiny) run, opened in headless Chromium: every chart rendered with data.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveOptim, resolveRollout, resolveTaoRl } from "../../src/config.js";
import { SandboxPool } from "../../src/sandbox/node.js";
import { runTraining } from "../../src/trainer/run.js";
import { runReport } from "../../src/cli/report.js";
import { makeTinyPolicy, question, tasks } from "./tiny-policy.js";

const root = mkdtempSync(join(tmpdir(), "taorl-report-"));
const pool = new SandboxPool({ javascriptWorkers: 1 });
const run = join(root, "tao-rl-s3");
afterAll(async () => { await pool.close(); rmSync(root, { recursive: true, force: true }); });

beforeAll(async () => {
  const model = await makeTinyPolicy(root);
  await runTraining({
    dir: run, model, preset: "tao-rl", steps: 4, checkpointEvery: 4, evalEvery: 2, evalK: 2,
    evalProblems: [0, 1, 2].map((i) => ({ id: `e${i}`, question: question(i), answer: "1" })),
    runTool: pool.run.bind(pool),
    settings: {
      runSeed: 3, tasks,
      tao: resolveTaoRl({ batch_prompts: 2, oversample: 1.5 }),
      rollout: resolveRollout({ n: 4, max_turns: 1, max_turn_tokens: 12, max_response_tokens: 16 }),
      optim: resolveOptim({ lr: 1e-3, mini_batch_prompts: 2 }),
    },
  });
}, 180_000);

const CHROMIUM = process.env.TAORL_CHROMIUM ?? "/usr/bin/chromium";

describe("taorl report", () => {
  it("writes a Markdown summary with the run's evaluations", () => {
    const out: string[] = [];
    const { md } = runReport([run], { stdout: (s) => out.push(s) });
    const text = readFileSync(md, "utf8");
    expect(text).toMatch(/^# taorl report: tao-rl-s3/);
    expect(text).toMatch(/\| tao-rl-s3 \| 4 \| \d\.\d{3} → \d\.\d{3} \|/);
    expect(readFileSync(join(run, "eval.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).step)).toEqual([0, 2, 4]);
  });

  it("renders every chart in headless Chromium", async () => {
    expect(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (Debian: apt-get install chromium; or set TAORL_CHROMIUM)`).toBe(true);
    runReport([run], { stdout: () => {} });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`file://${join(run, "report.html")}`);
      const charts = await page.$$eval("svg.chart", (els) => els.map((e) => ({
        title: e.getAttribute("aria-label"),
        width: (e as SVGSVGElement).getBoundingClientRect().width,
        series: Array.from(e.querySelectorAll("polyline.series")).map((p) => Number(p.getAttribute("data-points"))),
      })));
      expect(charts.map((c) => c.title)).toEqual([
        "held-out accuracy (avg@k)", "reward (training rollouts)", "entropy", "tool calls per trajectory",
        "tool failure rate by kind", "filter counts", "response length (tokens)",
      ]);
      for (const c of charts) expect(c.width).toBeGreaterThan(300);
      expect(charts[0].series).toEqual([3]); // three evaluations
      expect(charts[1].series).toEqual([4]); // four steps
      await page.screenshot({ path: join(run, "report.png") });
      expect(readFileSync(join(run, "report.png")).length).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});

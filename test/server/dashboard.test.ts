// The dashboard at `/` driven in headless Chromium against a real server: a tiny tool-using policy, the
// sandbox pool, a job queue in a temporary folder (training on the tiny policy's own tasks), a token.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobQueue } from "../../src/cli/serve-deps.js";
import { SandboxPool } from "../../src/sandbox/node.js";
import { createApp } from "../../src/server/app.js";
import { startNodeServer, type NodeServer } from "../../src/server/node.js";
import { makeToolPolicy, question, tasks } from "../trainer/tiny-policy.js";

const CHROMIUM = process.env.TAORL_CHROMIUM ?? "/usr/bin/chromium";
const TOKEN = "dash-t0k";
const root = mkdtempSync(join(tmpdir(), "taorl-dashboard-"));
const pool = new SandboxPool({ javascriptWorkers: 1 });
const evalTasks = (_seed: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: `e${i}`, question: question(i), answer: "1" }));
let jobs: JobQueue | undefined;
let server: NodeServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  const model = await makeToolPolicy(root);
  jobs = new JobQueue({ dir: join(root, "jobs"), model, runTool: pool.run.bind(pool), trainTasks: tasks, evalTasks });
  server = await startNodeServer({ version: "0.0.0-test", token: TOKEN, tools: pool, jobs, info: () => ({ model, benchmarks: ["math500"] }) }, 0, "127.0.0.1");
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await jobs?.close();
  await server?.close();
  await pool.close();
  rmSync(root, { recursive: true, force: true });
});

describe("GET /", () => {
  it("serves the page without a token, with a CSP that pins its inline script and style by hash", async () => {
    const app = createApp({ version: "0.0.0-test", token: "s3cret" });
    const res = await app.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//); // nothing loaded from elsewhere
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    const hash = (s: string) => `'sha256-${createHash("sha256").update(s).digest("base64")}'`;
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1];
    const style = /<style>([\s\S]*)<\/style>/.exec(html)![1];
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect((await app.request("/v1/info")).status).toBe(401);
  });
});

const rollout = { n: 4, max_turns: 3, eval_max_turns: 3, max_turn_tokens: 24, max_response_tokens: 64 };
const trainConfig = JSON.stringify({ config: { tao: { batch_prompts: 2, oversample: 1 }, rollout, optim: { mini_batch_prompts: 2 } } });

/** A fresh page on the dashboard, its token entered; `problems` collects script errors and CSP violations. */
async function openDashboard(): Promise<{ page: Page; problems: string[] }> {
  expect(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (Debian: apt-get install chromium; or set TAORL_CHROMIUM)`).toBe(true);
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("console", (m) => { if (m.type() === "error" && !/401 \(Unauthorized\)/.test(m.text())) problems.push(m.text()); });
  await page.goto(`${server!.url}/`);
  // without the token the API refuses; with it the header shows the server's facts
  await page.waitForFunction(() => /token/.test(document.getElementById("facts")!.textContent ?? ""));
  await page.fill("#token", TOKEN);
  await page.click("#token-form button");
  await page.waitForFunction(() => (document.getElementById("facts")!.textContent ?? "").startsWith("taorl 0.0.0-test"));
  return { page, problems };
}

const pointsOf = (page: Page, sel: string) => page.$eval(sel, (p) => Number(p.getAttribute("data-points")));

describe("the dashboard in headless Chromium", () => {
  it("runs the sandbox box, starts a training job, draws its live curves, shows it completed", async () => {
    const { page, problems } = await openDashboard();
    expect(await page.$$eval("#preset option", (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(["tao-rl", "grpo", "filter-only", "bonus-only", "simpletir"]);

    await page.selectOption("#language", "python");
    await page.fill("#code", "print(6*7)");
    await page.click("#run");
    await page.waitForFunction(() => (document.getElementById("sb-stdout")!.textContent ?? "").trim() === "42", undefined, { timeout: 30_000 });
    expect(await page.textContent("#sb-status")).toMatch(/^status ok/);

    await page.selectOption("#kind", "train");
    await page.selectOption("#preset", "tao-rl");
    await page.fill("#steps", "3");
    await page.fill("#eval-every", "3");
    await page.fill("#eval-problems", "2");
    await page.fill("#eval-k", "2");
    await page.fill("#extra", trainConfig);
    // every value the reward chart's point count takes, in order: the chart redraws as each step's event arrives
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { rewardCounts: number[] }).rewardCounts = seen;
      // each redraw appends a new polyline (its attributes already set), so batched records lose none
      new MutationObserver((records) => {
        for (const r of records) {
          for (const node of r.addedNodes) {
            if (node instanceof SVGPolylineElement) seen.push(Number(node.getAttribute("data-points")));
          }
        }
      }).observe(document.getElementById("chart-reward")!, { childList: true });
    });
    await page.click("#start");
    await page.waitForFunction(() => /^started train-/.test(document.getElementById("job-msg")!.textContent ?? ""));

    const rewardPoints = () => page.$eval("#chart-reward polyline.series", (p) => ({ count: Number(p.getAttribute("data-points")), points: p.getAttribute("points") ?? "" }));
    await page.waitForFunction(() => Number(document.querySelector("#chart-reward polyline.series")?.getAttribute("data-points") ?? 0) >= 2, undefined, { timeout: 45_000 });
    const live = await rewardPoints();
    expect(live.points.trim().split(/\s+/).length).toBe(live.count);

    await page.waitForFunction(() => document.getElementById("job-status")!.textContent === "completed", undefined, { timeout: 45_000 });
    const done = await rewardPoints();
    expect(done.count).toBe(3);
    expect(await page.evaluate(() => (window as unknown as { rewardCounts: number[] }).rewardCounts)).toEqual([1, 2, 3]);
    for (const xy of done.points.trim().split(/\s+/)) expect(xy).toMatch(/^\d+(\.\d+)?,\d+(\.\d+)?$/);
    expect(await pointsOf(page, "#chart-tools polyline.series")).toBe(3);
    // a step whose groups were all filtered out trains nothing and has no loss entropy
    expect(await pointsOf(page, "#chart-entropy polyline.series")).toBeGreaterThanOrEqual(1);
    // evaluations at steps 0 and 3
    expect(await pointsOf(page, '#chart-eval polyline[data-series="avg_at_k"]')).toBe(2);
    expect(await page.textContent("#job-progress-text")).toBe("step 3 / 3");
    expect(await page.isDisabled("#cancel")).toBe(true);
    await page.waitForFunction(() => document.querySelector("#jobs-body tr.selected .badge")?.textContent === "completed");

    // its checkpoint is listed, and a file button downloads the file (fetched with the token)
    const jobId = (await page.textContent("#job-id"))!.trim();
    await page.waitForFunction((id) => [...document.querySelectorAll("#ckpt-body tr td:first-child")].some((td) => td.textContent === id), jobId);
    const row = page.locator("#ckpt-body tr", { hasText: jobId });
    expect(await row.locator("td").nth(1).textContent()).toBe("3");
    const [download] = await Promise.all([page.waitForEvent("download"), row.getByRole("button", { name: "config.json", exact: true }).click()]);
    expect(download.suggestedFilename()).toBe("config.json");
    const saved = readFileSync((await download.path())!, "utf8");
    expect(saved).toBe(readFileSync(join(root, "jobs", jobId, "run", "checkpoint", "config.json"), "utf8"));

    const shot = join(root, "dashboard.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    if (process.env.TAORL_DASHBOARD_PNG) copyFileSync(shot, process.env.TAORL_DASHBOARD_PNG); // to look at it: the temp dir goes
    expect(problems).toEqual([]);
  }, 120_000);

  it("runs an evaluation job, and cancels a running training job", async () => {
    const { page, problems } = await openDashboard();
    await page.selectOption("#kind", "evaluate");
    // problem sets: the task family's splits and the benchmarks /v1/info lists; levels only for the family
    expect(await page.$$eval("#problem-set option", (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(["test", "ood", "math500"]);
    await page.selectOption("#problem-set", "math500");
    expect(await page.isDisabled("#level")).toBe(true);
    await page.selectOption("#problem-set", "test");
    expect(await page.isDisabled("#level")).toBe(false);
    await page.fill("#problems", "2");
    await page.fill("#k", "2");
    await page.selectOption("#level", "1");
    await page.fill("#extra", JSON.stringify({ rollout }));
    await page.click("#start");
    await page.waitForFunction(() => document.getElementById("job-status")!.textContent === "completed", undefined, { timeout: 30_000 });
    expect(await pointsOf(page, '#chart-eval polyline[data-series="avg_at_k"]')).toBe(1);
    expect(await pointsOf(page, '#chart-eval polyline[data-series="pass_at_k"]')).toBe(1);
    expect(await page.textContent("#job-detail")).toMatch(/avg@2 \d\.\d{3}, pass@2 \d\.\d{3}/);
    const evalJob = jobs!.list().find((j) => j.kind === "evaluate")!;
    expect(evalJob.request).toMatchObject({ kind: "evaluate", split: "test", level: 1, problems: 2, k: 2 });

    await page.selectOption("#kind", "train");
    await page.fill("#steps", "1000");
    await page.fill("#eval-every", "0");
    await page.fill("#extra", trainConfig);
    await page.click("#start");
    await page.waitForFunction(() => Number(document.querySelector("#chart-reward polyline.series")?.getAttribute("data-points") ?? 0) >= 1, undefined, { timeout: 30_000 });
    expect(await page.isDisabled("#cancel")).toBe(false);
    await page.click("#cancel");
    await page.waitForFunction(() => document.getElementById("job-status")!.textContent === "cancelled", undefined, { timeout: 30_000 });
    expect(await page.isDisabled("#cancel")).toBe(true);
    await page.waitForFunction(() => document.querySelector("#jobs-body tr.selected .badge")?.textContent === "cancelled");
    expect(await page.$$eval("#jobs-body tr", (rows) => rows.length)).toBe(3);
    expect(problems).toEqual([]);
  }, 90_000);
});

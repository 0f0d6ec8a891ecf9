// Run reports: an HTML page of line charts (inline SVG, no script, no network) and a Markdown summary,
// from the JSONL a run writes. Pure: records in, strings out.
import type { EvalResult } from "./evaluate.js";
import type { StepMetrics } from "./loop.js";

export interface RunRecords {
  /** Run label, e.g. "tao-rl-s0". */
  name: string;
  steps: Array<StepMetrics & { preset?: string }>;
  evals: Array<EvalResult & { step: number }>;
}

interface Series {
  name: string;
  points: Array<[number, number]>;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** One line chart as SVG; each series is a polyline with circles at its points. */
export function lineChart(title: string, series: Series[], yLabel = ""): string {
  const W = 440, H = 240, L = 52, R = 12, Tp = 28, Bt = 36;
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { y0 -= Math.abs(y0) * 0.1 || 1; y1 += Math.abs(y1) * 0.1 || 1; }
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => H - Bt - ((y - y0) / (y1 - y0)) * (H - Tp - Bt);
  const ticks = (a: number, b: number) => [0, 0.25, 0.5, 0.75, 1].map((f) => a + f * (b - a));
  const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : Number(v.toPrecision(3)).toString());
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">${esc(title)}</text>`,
    `<line x1="${L}" y1="${H - Bt}" x2="${W - R}" y2="${H - Bt}" stroke="#444"/><line x1="${L}" y1="${Tp}" x2="${L}" y2="${H - Bt}" stroke="#444"/>`,
  ];
  for (const y of ticks(y0, y1)) parts.push(`<line x1="${L}" x2="${W - R}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/><text x="${L - 4}" y="${py(y) + 4}" text-anchor="end" font-size="10">${fmt(y)}</text>`);
  for (const x of ticks(x0, x1)) parts.push(`<text x="${px(x)}" y="${H - Bt + 14}" text-anchor="middle" font-size="10">${fmt(x)}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" font-size="10">step</text>`);
  if (yLabel) parts.push(`<text x="12" y="${(Tp + H - Bt) / 2}" transform="rotate(-90 12 ${(Tp + H - Bt) / 2})" text-anchor="middle" font-size="10">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const good = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (good.length === 0) return;
    parts.push(`<polyline class="series" data-name="${esc(s.name)}" data-points="${good.length}" fill="none" stroke="${c}" stroke-width="1.6" points="${good.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ")}"/>`);
    for (const [x, y] of good) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2" fill="${c}"/>`);
    parts.push(`<text x="${W - R - 4}" y="${Tp + 12 + 12 * i}" text-anchor="end" font-size="10" fill="${c}">${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}

type Pick = (m: StepMetrics) => number | undefined;

const STEP_CHARTS: Array<{ title: string; lines: Array<[string, Pick]> }> = [
  { title: "reward (training rollouts)", lines: [["reward", (m) => m.rollout.reward_mean]] },
  { title: "entropy", lines: [["all loss tokens", (m) => m.loss?.entropy_mean], ["post-tool tokens", (m) => m.loss?.entropy_post_tool_mean]] },
  { title: "tool calls per trajectory", lines: [["calls", (m) => m.rollout.tool_calls_per_traj]] },
  {
    title: "tool failure rate by kind",
    lines: (["error", "timeout", "oom", "empty", "output_limit"] as const).map((k) => [k, (m: StepMetrics) => m.tool_failure_rate[k]] as [string, Pick]),
  },
  {
    title: "filter counts",
    lines: [
      ["groups kept", (m) => m.filter.groupsKept], ["all correct", (m) => m.filter.droppedAllCorrect], ["all wrong", (m) => m.filter.droppedAllWrong],
      ["overlong", (m) => m.filter.droppedOverlong], ["all tools failed", (m) => m.filter.maskedAllToolsFailed], ["void", (m) => m.filter.maskedVoid],
    ],
  },
  { title: "response length (tokens)", lines: [["mean", (m) => m.rollout.response_length_mean]] },
];

/** Charts over one or several runs (several runs: one series per run and line). */
export function reportCharts(runs: RunRecords[]): string[] {
  const multi = runs.length > 1;
  const charts: string[] = [];
  charts.push(lineChart("held-out accuracy (avg@k)", runs.map((r) => ({ name: r.name, points: r.evals.map((e) => [e.step, e.avg_at_k] as [number, number]) })), "avg@k"));
  for (const c of STEP_CHARTS) {
    const series: Series[] = [];
    for (const r of runs) {
      for (const [label, pick] of c.lines) {
        if (multi && c.lines.length > 1 && label !== c.lines[0][0]) continue; // several runs: first line only
        series.push({ name: multi ? `${r.name}${c.lines.length > 1 ? ` ${label}` : ""}` : label, points: r.steps.map((m) => [m.step, pick(m) ?? NaN]) });
      }
    }
    charts.push(lineChart(c.title, series));
  }
  return charts;
}

export function reportHtml(title: string, runs: RunRecords[], summaryMarkdown: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}.grid{display:flex;flex-wrap:wrap;gap:12px}
.chart{border:1px solid #ddd;border-radius:6px;background:#fff}pre{background:#f6f6f6;padding:12px;overflow:auto}</style></head>
<body><h1>${esc(title)}</h1><div class="grid">${reportCharts(runs).join("\n")}</div>
<h2>Summary</h2><pre>${esc(summaryMarkdown)}</pre></body></html>\n`;
}

/** A Markdown summary: per run, first and last evaluation, last-step training figures. */
export function reportMarkdown(title: string, runs: RunRecords[]): string {
  const f = (x: number | undefined, d = 3) => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(d));
  const lines = [`# ${title}`, "", "| run | steps | avg@k first → last | pass@k last | reward (last step) | post-tool entropy | tool failure rate | wall time |", "|---|---|---|---|---|---|---|---|"];
  for (const r of runs) {
    const first = r.evals[0], last = r.evals[r.evals.length - 1], m = r.steps[r.steps.length - 1];
    const fail = m ? 1 - (m.rollout.valid_exec_rate || 0) : undefined;
    const wall = r.steps.reduce((a, s) => a + s.time_ms.total, 0) / 1000;
    lines.push(`| ${r.name} | ${m?.step ?? 0} | ${f(first?.avg_at_k)} → ${f(last?.avg_at_k)} | ${f(last?.pass_at_k)} | ${f(m?.rollout.reward_mean)} | ${f(m?.loss?.entropy_post_tool_mean)} | ${f(fail)} | ${wall.toFixed(0)} s |`);
  }
  return `${lines.join("\n")}\n`;
}

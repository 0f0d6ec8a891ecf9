// The dashboard at `/`: one self-contained page (inline style and script, nothing fetched from elsewhere)
// that drives the HTTP API from a browser: start an evaluation or a training job, follow its event stream
// as live SVG charts, cancel it, try the sandbox. The page holds no data; every request it makes carries
// the token the user pastes, so GET / itself needs none.
// Event streams are read with fetch() rather than EventSource, which cannot send an Authorization header.
// The Content-Security-Policy allows exactly this page's script and style (by hash) and same-origin fetches.

const PRESET_NAMES = ["tao-rl", "grpo", "filter-only", "bonus-only", "simpletir"];

const STYLE = String.raw`
:root { --fg: #1d2330; --muted: #5d6678; --line: #d9dee8; --bg: #f5f7fb; --card: #fff; --accent: #2f6fdf; --bad: #c93434; --ok: #1f8a4c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center; padding: 12px 20px; background: #1d2330; color: #fff; }
header h1 { margin: 0; font-size: 18px; }
header .facts { color: #b9c2d3; flex: 1; min-width: 200px; }
header label { color: #b9c2d3; }
header input { width: 220px; }
header form.row { margin: 0; }
main { display: grid; grid-template-columns: minmax(300px, 380px) 1fr; gap: 16px; padding: 16px 20px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; min-width: 0; }
section h2 { margin: 0 0 10px; font-size: 15px; }
.col { display: flex; flex-direction: column; gap: 16px; min-width: 0; }
label { display: block; font-size: 12px; color: var(--muted); }
input, select, textarea, button { font: inherit; }
input, select, textarea { width: 100%; padding: 4px 6px; border: 1px solid var(--line); border-radius: 4px; background: #fff; color: var(--fg); }
textarea { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; resize: vertical; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; margin-bottom: 8px; }
button { padding: 5px 12px; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.small { padding: 1px 8px; font-size: 12px; }
.head { display: flex; justify-content: space-between; align-items: baseline; }
button:disabled { opacity: .5; cursor: default; }
.row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-top: 8px; }
.msg { font-size: 12px; color: var(--muted); min-height: 1.2em; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.error { color: var(--bad); }
table { width: 100%; border-collapse: collapse; font-size: 12px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td.files { white-space: normal; }
td.files button { margin: 1px 0; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: #eef3fd; }
tbody tr.selected { background: #dfe9fc; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11px; background: #e4e8f0; }
.badge.running, .badge.queued { background: #dce8ff; color: #1d4fae; }
.badge.completed { background: #d9f2e3; color: var(--ok); }
.badge.failed, .badge.cancelled, .badge.interrupted { background: #f8dede; color: var(--bad); }
progress { width: 100%; height: 14px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; margin-top: 10px; }
figure { margin: 0; }
figcaption { font-size: 12px; color: var(--muted); margin-bottom: 2px; }
svg.chart { width: 100%; height: auto; display: block; background: #fbfcfe; border: 1px solid var(--line); border-radius: 4px; }
svg.chart .axis { stroke: #aab3c4; stroke-width: 1; }
svg.chart text { font-size: 10px; fill: var(--muted); }
svg.chart polyline { fill: none; stroke-width: 2; }
svg.chart .s0 { stroke: var(--accent); fill: var(--accent); }
svg.chart .s1 { stroke: #e0832a; fill: #e0832a; }
svg.chart polyline.s0, svg.chart polyline.s1 { fill: none; }
svg.chart .empty { font-size: 12px; }
pre { margin: 4px 0 0; padding: 6px 8px; background: #f3f5f9; border: 1px solid var(--line); border-radius: 4px; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 240px; overflow: auto; }
.hidden { display: none; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
`;

const SCRIPT = String.raw`
"use strict";
const PRESETS = ${JSON.stringify(PRESET_NAMES)};
const TERMINAL = ["completed", "failed", "cancelled", "interrupted"];
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
let token = sessionStorage.getItem("taorl-token") || "";
let followed = null; // { id, abort, status }
let series = {};

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function say(id, text, isError) {
  const m = $(id);
  m.textContent = text;
  m.classList.toggle("error", !!isError);
}
function authHeaders(extra) {
  const h = Object.assign({}, extra || {});
  if (token) h.authorization = "Bearer " + token;
  return h;
}
/** JSON request; rejects with the problem's detail (and field errors) on a non-2xx answer. */
async function api(method, path, body) {
  const init = { method: method, headers: authHeaders(body === undefined ? {} : { "content-type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  const type = res.headers.get("content-type") || "";
  const data = /json/.test(type) ? await res.json() : await res.text();
  if (!res.ok) {
    let detail = data && data.detail ? data.detail : "HTTP " + res.status;
    if (data && Array.isArray(data.errors)) detail += data.errors.map((e) => "\n  " + e.path + ": " + e.message).join("");
    if (res.status === 401) detail += " (paste the server's token at the top)";
    throw new Error(detail);
  }
  return data;
}
const fmt = (v, digits) => (typeof v === "number" && isFinite(v) ? (Number.isInteger(v) && digits === undefined ? String(v) : v.toFixed(digits === undefined ? 3 : digits)) : "–");

// ---- header: server facts and token

async function loadInfo() {
  try {
    const info = await api("GET", "/v1/info");
    const facts = [info.name + " " + info.version];
    if (info.runtime) facts.push("runtime " + info.runtime);
    if (Array.isArray(info.sandbox)) facts.push("sandbox " + info.sandbox.join(", "));
    if (info.model) facts.push("model " + info.model);
    $("facts").textContent = facts.join(" · ");
    const presets = Array.isArray(info.presets) && info.presets.length ? info.presets : PRESETS;
    fillPresets(presets);
    fillProblemSets(Array.isArray(info.benchmarks) ? info.benchmarks : []);
    return true;
  } catch (e) {
    $("facts").textContent = "info: " + e.message;
    return false;
  }
}
function fillPresets(names) {
  const sel = $("preset");
  const keep = sel.value;
  sel.replaceChildren();
  for (const n of names) sel.append(new Option(n, n));
  if (names.includes(keep)) sel.value = keep;
}
/** Evaluation problem sets: the task family's splits, then the benchmarks the server has files for. */
function fillProblemSets(benchmarks) {
  const sel = $("problem-set");
  const keep = sel.value;
  sel.replaceChildren(new Option("task family: test split", "test"), new Option("task family: ood split (held-out templates)", "ood"));
  for (const n of benchmarks) sel.append(new Option("benchmark: " + n, n));
  if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
  showProblemSet();
}
function showProblemSet() {
  const family = ["test", "ood"].includes($("problem-set").value);
  $("level").disabled = !family;
}
$("problem-set").addEventListener("change", showProblemSet);
$("token-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  if (token) sessionStorage.setItem("taorl-token", token); else sessionStorage.removeItem("taorl-token");
  if (await loadInfo()) await loadJobs();
});

// ---- start a job

function showKind() {
  const train = $("kind").value === "train";
  $("train-fields").classList.toggle("hidden", !train);
  $("eval-fields").classList.toggle("hidden", train);
}
$("kind").addEventListener("change", showKind);
const num = (id) => Number($(id).value);
$("job-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const train = $("kind").value === "train";
  let body;
  if (train) {
    body = { preset: $("preset").value, steps: num("steps"), seed: num("seed"), eval_every: num("eval-every"), eval_problems: num("eval-problems"), eval_k: num("eval-k") };
  } else {
    body = { problems: num("problems"), k: num("k"), seed: num("seed") };
    const set = $("problem-set").value;
    if (set === "test" || set === "ood") {
      body.split = set;
      if ($("level").value !== "") body.level = Number($("level").value);
    } else {
      body.benchmark = set;
    }
  }
  const extra = $("extra").value.trim();
  if (extra) {
    try {
      const parsed = JSON.parse(extra);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("expected a JSON object");
      Object.assign(body, parsed);
    } catch (e) {
      say("job-msg", "extra fields: " + e.message, true);
      return;
    }
  }
  $("start").disabled = true;
  say("job-msg", "starting…");
  try {
    const job = await api("POST", train ? "/v1/train" : "/v1/evaluate", body);
    say("job-msg", "started " + job.id);
    await loadJobs();
    follow(job.id);
  } catch (e) {
    say("job-msg", e.message, true);
  } finally {
    $("start").disabled = false;
  }
});

// ---- jobs list

async function loadJobs() {
  try {
    const { jobs } = await api("GET", "/v1/jobs");
    const body = $("jobs-body");
    body.replaceChildren();
    for (const j of jobs.slice().reverse()) {
      const tr = el("tr");
      tr.dataset.id = j.id;
      if (followed && followed.id === j.id) tr.classList.add("selected");
      tr.append(el("td", j.id), el("td", j.kind));
      const st = el("td");
      st.append(el("span", j.status, "badge " + j.status));
      tr.append(st, el("td", j.progress.step + "/" + j.progress.steps), el("td", new Date(j.created_at).toLocaleTimeString()));
      tr.addEventListener("click", () => follow(j.id));
      body.append(tr);
    }
    $("jobs-empty").classList.toggle("hidden", jobs.length > 0);
    say("jobs-msg", "");
  } catch (e) {
    say("jobs-msg", e.message, true);
  }
  await loadCheckpoints();
}
$("refresh").addEventListener("click", loadJobs);

// ---- checkpoints of training jobs: one button per file (fetched with the token, saved as a download)

async function loadCheckpoints() {
  try {
    const { checkpoints } = await api("GET", "/v1/checkpoints");
    const body = $("ckpt-body");
    body.replaceChildren();
    for (const c of checkpoints.slice().reverse()) {
      const tr = el("tr");
      tr.append(el("td", c.job), el("td", c.step), el("td", new Date(c.saved_at).toLocaleTimeString()));
      const files = el("td", undefined, "files");
      for (const f of c.files) {
        const b = el("button", f.name, "secondary small");
        b.type = "button";
        b.title = (f.bytes / 1024).toFixed(0) + " KiB";
        b.addEventListener("click", () => download(f.url, f.name));
        files.append(b, " ");
      }
      tr.append(files);
      body.append(tr);
    }
    $("ckpt-empty").classList.toggle("hidden", checkpoints.length > 0);
    say("ckpt-msg", "");
  } catch (e) {
    say("ckpt-msg", e.message, true);
  }
}
async function download(url, name) {
  try {
    const res = await fetch(url, { headers: authHeaders() });
    if (!res.ok) throw new Error("HTTP " + res.status);
    const a = el("a");
    a.href = URL.createObjectURL(await res.blob());
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch (e) {
    say("ckpt-msg", name + ": " + e.message, true);
  }
}

// ---- the followed job: event stream, progress, charts

const CHARTS = [
  { id: "chart-reward", series: ["reward"], unit: true },
  { id: "chart-eval", series: ["avg_at_k", "pass_at_k"], unit: true },
  { id: "chart-entropy", series: ["entropy"] },
  { id: "chart-tools", series: ["tool_calls"] },
];

function resetSeries() {
  series = { reward: [], avg_at_k: [], pass_at_k: [], entropy: [], tool_calls: [] };
  for (const c of CHARTS) draw(c);
}

function draw(chart) {
  const svg = $(chart.id);
  const W = 480, H = 200, L = 44, R = 12, T = 12, B = 28;
  svg.replaceChildren();
  const all = chart.series.flatMap((name) => series[name]);
  const axis = (x1, y1, x2, y2) => {
    const l = document.createElementNS(SVG, "line");
    l.setAttribute("x1", x1); l.setAttribute("y1", y1); l.setAttribute("x2", x2); l.setAttribute("y2", y2);
    l.setAttribute("class", "axis");
    svg.append(l);
  };
  const text = (x, y, s, anchor) => {
    const t = document.createElementNS(SVG, "text");
    t.setAttribute("x", x); t.setAttribute("y", y);
    if (anchor) t.setAttribute("text-anchor", anchor);
    t.textContent = s;
    svg.append(t);
    return t;
  };
  axis(L, T, L, H - B);
  axis(L, H - B, W - R, H - B);
  if (all.length === 0) {
    text((L + W - R) / 2, (T + H - B) / 2, "no data yet", "middle").setAttribute("class", "empty");
    return;
  }
  let x0 = Math.min(...all.map((p) => p.x)), x1 = Math.max(...all.map((p) => p.x));
  let y0 = Math.min(...all.map((p) => p.y)), y1 = Math.max(...all.map((p) => p.y));
  if (chart.unit) { y0 = Math.min(0, y0); y1 = Math.max(1, y1); } // rates: the whole [0, 1]
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { const pad = Math.abs(y0) * 0.1 || 0.5; y0 -= pad; y1 += pad; }
  const px = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  text(L - 4, T + 4, fmt(y1), "end");
  text(L - 4, H - B, fmt(y0), "end");
  text(L, H - B + 14, fmt(x0, 0), "start");
  text(W - R, H - B + 14, fmt(x1, 0), "end");
  chart.series.forEach((name, k) => {
    const pts = series[name];
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("class", "series s" + k);
    line.setAttribute("data-series", name);
    line.setAttribute("data-points", String(pts.length));
    line.setAttribute("points", pts.map((p) => px(p.x).toFixed(1) + "," + py(p.y).toFixed(1)).join(" "));
    svg.append(line);
    for (const p of pts) {
      const c = document.createElementNS(SVG, "circle");
      c.setAttribute("cx", px(p.x).toFixed(1)); c.setAttribute("cy", py(p.y).toFixed(1)); c.setAttribute("r", "2.5");
      c.setAttribute("class", "s" + k);
      const tip = document.createElementNS(SVG, "title");
      tip.textContent = name + " @ " + p.x + ": " + fmt(p.y);
      c.append(tip);
      svg.append(c);
    }
  });
  if (chart.series.length > 1) {
    chart.series.forEach((name, k) => text(W - R - 4, T + 10 + 12 * k, name, "end").setAttribute("class", "s" + k));
  }
}
const push = (name, x, y) => { if (typeof y === "number" && isFinite(y)) series[name].push({ x: x, y: y }); };

function setStatus(status, detail) {
  followed.status = status;
  const b = $("job-status");
  b.textContent = status;
  b.className = "badge " + status;
  $("cancel").disabled = TERMINAL.includes(status);
  if (detail !== undefined) say("job-detail", detail, status === "failed");
}
function onEvent(event, data) {
  if (event === "status") {
    let detail;
    if (data.error) detail = "error: " + data.error;
    else if (data.cancel_requested) detail = "cancel requested: stops after the current step";
    else if (data.result && data.result.last_eval) detail = "last evaluation: avg@" + data.result.last_eval.k + " " + fmt(data.result.last_eval.avg_at_k, 3) + ", pass@" + data.result.last_eval.k + " " + fmt(data.result.last_eval.pass_at_k, 3);
    setStatus(data.status, detail);
    if (TERMINAL.includes(data.status) || data.status === "running") loadJobs();
  } else if (event === "progress") {
    $("job-progress").max = Math.max(1, data.steps);
    $("job-progress").value = data.step;
    $("job-progress-text").textContent = "step " + data.step + " / " + data.steps;
    const row = [...$("jobs-body").children].find((tr) => tr.dataset.id === followed.id);
    if (row) row.children[3].textContent = data.step + "/" + data.steps;
  } else if (event === "metrics") {
    push("reward", data.step, data.rollout && data.rollout.reward_mean);
    push("entropy", data.step, data.loss && data.loss.entropy_mean);
    push("tool_calls", data.step, data.rollout && data.rollout.tool_calls_per_traj);
    draw(CHARTS[0]); draw(CHARTS[2]); draw(CHARTS[3]);
  } else if (event === "eval") {
    const x = typeof data.step === "number" ? data.step : series.avg_at_k.length;
    push("avg_at_k", x, data.avg_at_k);
    push("pass_at_k", x, data.pass_at_k);
    draw(CHARTS[1]);
    say("job-detail", "evaluation" + (typeof data.step === "number" ? " at step " + data.step : "") + ": avg@" + data.k + " " + fmt(data.avg_at_k, 3) + ", pass@" + data.k + " " + fmt(data.pass_at_k, 3) + " over " + data.problems + " problems");
  } else if (event === "restart") {
    say("job-detail", "server restarted: the job was " + data.was + ", resumed " + data.resume);
  }
}

/** Reads the job's server-sent events until it ends; reconnects after a dropped connection (?after=). */
async function follow(id) {
  if (followed) followed.abort.abort();
  const me = { id: id, abort: new AbortController(), status: "" };
  followed = me;
  for (const tr of $("jobs-body").children) tr.classList.toggle("selected", tr.dataset.id === id);
  $("job-panel").classList.remove("hidden");
  $("job-id").textContent = id;
  $("job-progress").value = 0;
  $("job-progress-text").textContent = "";
  say("job-detail", "");
  setStatus("…");
  resetSeries();
  let last = 0;
  while (!me.abort.signal.aborted) {
    try {
      const res = await fetch("/v1/jobs/" + encodeURIComponent(id) + "/events?after=" + last, { headers: authHeaders(), signal: me.abort.signal });
      if (!res.ok) {
        const p = await res.json().catch(() => ({}));
        say("job-detail", (p.detail || "HTTP " + res.status), true);
        return;
      }
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buf += dec.decode(chunk.value, { stream: true });
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let event = "message", data = "", eid = null;
          for (const line of block.split("\n")) {
            const i = line.indexOf(":");
            if (i <= 0) continue;
            const field = line.slice(0, i), value = line.slice(i + 1).replace(/^ /, "");
            if (field === "event") event = value;
            else if (field === "data") data += value;
            else if (field === "id") eid = value;
          }
          if (eid !== null) last = Number(eid);
          if (followed !== me) return;
          onEvent(event, data ? JSON.parse(data) : {});
        }
      }
      if (TERMINAL.includes(me.status)) return;
    } catch (e) {
      if (me.abort.signal.aborted) return;
      say("job-detail", "event stream: " + e.message + " (reconnecting)", true);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
$("cancel").addEventListener("click", async () => {
  if (!followed) return;
  try {
    await api("POST", "/v1/jobs/" + encodeURIComponent(followed.id) + "/cancel");
  } catch (e) {
    say("job-detail", e.message, true);
  }
});

// ---- sandbox

$("sandbox-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("run").disabled = true;
  say("sb-status", "running…");
  $("sb-stdout").textContent = "";
  $("sb-stderr").textContent = "";
  try {
    const r = await api("POST", "/v1/sandbox/run", { language: $("language").value, code: $("code").value });
    say("sb-status", "status " + r.status + " · outcome " + r.outcome + " · " + fmt(r.elapsedMs, 0) + " ms", r.status !== "ok");
    $("sb-stdout").textContent = r.stdout;
    $("sb-stderr").textContent = r.stderr;
  } catch (e) {
    say("sb-status", e.message, true);
  } finally {
    $("run").disabled = false;
  }
});

// ---- start

$("token").value = token;
fillPresets(PRESETS);
showKind();
resetSeries();
loadInfo().then((ok) => { if (ok) loadJobs(); });
`;

const numberField = (id: string, label: string, value: number, min: number, max: number) =>
  `<div><label for="${id}">${label}</label><input id="${id}" type="number" min="${min}" max="${max}" value="${value}" required></div>`;

const BODY = `
<header>
  <h1>taorl</h1>
  <div class="facts" id="facts">loading…</div>
  <form id="token-form" class="row">
    <label for="token">API token</label>
    <input id="token" type="password" autocomplete="off" placeholder="Bearer token, if the server has one">
    <button type="submit" class="secondary">Use</button>
  </form>
</header>
<main>
  <div class="col">
    <section>
      <h2>Start a job</h2>
      <form id="job-form">
        <div class="grid2">
          <div><label for="kind">kind</label><select id="kind"><option value="train">train (adapt)</option><option value="evaluate">evaluate</option></select></div>
          ${numberField("seed", "seed", 0, 0, 2147483647)}
        </div>
        <div id="train-fields">
          <div class="grid2">
            <div><label for="preset">preset</label><select id="preset"></select></div>
            ${numberField("steps", "steps", 20, 1, 10000)}
            ${numberField("eval-every", "evaluate every N steps (0 = never)", 10, 0, 10000)}
            ${numberField("eval-problems", "held-out problems", 32, 0, 256)}
            ${numberField("eval-k", "samples per held-out problem (k)", 4, 1, 16)}
          </div>
        </div>
        <div id="eval-fields" class="hidden">
          <label for="problem-set">problems from</label><select id="problem-set"><option value="test">task family: test split</option></select>
          <div class="grid2">
            ${numberField("problems", "problems", 32, 1, 256)}
            <div><label for="level">level</label><select id="level"><option value="">all (cycling)</option>${[1, 2, 3, 4, 5, 6, 7, 8].map((l) => `<option value="${l}">${l}</option>`).join("")}</select></div>
            ${numberField("k", "samples per problem (k)", 4, 1, 16)}
          </div>
        </div>
        <label for="extra">extra request fields (JSON object, merged into the body; e.g. {"config": {"rollout": {"n": 4}}})</label>
        <textarea id="extra" rows="3" spellcheck="false"></textarea>
        <div class="row"><button type="submit" id="start">Start</button></div>
        <div class="msg" id="job-msg"></div>
      </form>
    </section>
    <section>
      <h2>Sandbox</h2>
      <form id="sandbox-form">
        <label for="language">language</label>
        <select id="language"><option value="python">python</option><option value="javascript">javascript</option></select>
        <label for="code">code</label>
        <textarea id="code" rows="6" spellcheck="false">print(6*7)</textarea>
        <div class="row"><button type="submit" id="run">Run</button></div>
        <div class="msg" id="sb-status"></div>
        <label>stdout</label><pre id="sb-stdout"></pre>
        <label>stderr</label><pre id="sb-stderr"></pre>
      </form>
    </section>
  </div>
  <div class="col">
    <section>
      <div class="head"><h2>Jobs</h2><button type="button" id="refresh" class="secondary small">Refresh</button></div>
      <table><thead><tr><th>id</th><th>kind</th><th>status</th><th>progress</th><th>created</th></tr></thead><tbody id="jobs-body"></tbody></table>
      <div class="msg" id="jobs-empty">no jobs yet</div>
      <div class="msg" id="jobs-msg"></div>
    </section>
    <section>
      <h2>Checkpoints</h2>
      <table><thead><tr><th>job</th><th>step</th><th>saved</th><th>files (a Hugging Face folder)</th></tr></thead><tbody id="ckpt-body"></tbody></table>
      <div class="msg" id="ckpt-empty">no checkpoint yet: training jobs write one every few steps</div>
      <div class="msg" id="ckpt-msg"></div>
    </section>
    <section id="job-panel" class="hidden">
      <h2>Job <span id="job-id"></span> <span id="job-status" class="badge"></span></h2>
      <progress id="job-progress" max="1" value="0"></progress>
      <div class="row"><span class="msg" id="job-progress-text"></span><button type="button" id="cancel" class="secondary">Cancel</button></div>
      <div class="msg" id="job-detail"></div>
      <div class="charts">
        <figure><figcaption>reward mean per step</figcaption><svg class="chart" id="chart-reward" viewBox="0 0 480 200" role="img" aria-label="reward mean per step"></svg></figure>
        <figure><figcaption>held-out avg@k / pass@k per evaluation</figcaption><svg class="chart" id="chart-eval" viewBox="0 0 480 200" role="img" aria-label="held-out avg@k and pass@k"></svg></figure>
        <figure><figcaption>entropy per step</figcaption><svg class="chart" id="chart-entropy" viewBox="0 0 480 200" role="img" aria-label="entropy per step"></svg></figure>
        <figure><figcaption>tool calls per trajectory per step</figcaption><svg class="chart" id="chart-tools" viewBox="0 0 480 200" role="img" aria-label="tool calls per trajectory"></svg></figure>
      </div>
    </section>
  </div>
</main>`;

/** The page; its only script and style are inline and pinned by hash in `csp`. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>taorl dashboard</title>
<style>${STYLE}</style>
</head>
<body>${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`;

async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  let bin = "";
  for (const b of digest) bin += String.fromCharCode(b);
  return btoa(bin);
}

let policy: Promise<string> | undefined;

/**
 * The page's Content-Security-Policy: its own script and style by hash, fetches to this origin only,
 * nothing else loaded, no framing, no form posts elsewhere. (Web Crypto: the same on Node and edge workers.)
 */
export function dashboardCsp(): Promise<string> {
  policy ??= Promise.all([sha256Base64(SCRIPT), sha256Base64(STYLE)]).then(([script, style]) =>
    [
      "default-src 'none'", `script-src 'sha256-${script}'`, `style-src 'sha256-${style}'`, "connect-src 'self'", "img-src 'self' data:",
      "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
    ].join("; "),
  );
  return policy;
}

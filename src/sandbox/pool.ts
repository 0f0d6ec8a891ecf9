// Node-only. A pool of sandbox hosts: QuickJS in worker threads, Pyodide in child processes under Node's
// permission model. It queues calls, keeps hosts warm (plus warm Python spares, since a cold Pyodide takes
// ~2 s), enforces every deadline from outside the host (a runaway is killed, never waited for), replaces
// a crashed, killed or retired host, and reports a call its host lost as `error` (or `timeout`) with the
// reason. Nothing here blocks the caller's event loop: all guest code runs in other threads or processes.
// Hosts keep the process alive: call `close()` when done.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { SandboxResult } from "../types.js";
import type { HostReply, HostRequest } from "./messages.js";
import { pyodidePackageDir } from "./pyodide.js";
import { DEFAULT_LIMITS, DEFAULT_SESSION_MODE, failure, resolveLimits } from "./sandbox.js";
import type { Language, RunOptions, Sandbox, SandboxLimits, SessionMode } from "./sandbox.js";

export interface PoolOptions {
  /** QuickJS worker threads. Default: min(4, available cores). */
  javascriptWorkers?: number;
  /** Pyodide processes serving calls. Default 1. */
  pythonWorkers?: number;
  /** Warm Pyodide processes kept ready to replace a killed one. Default 1. */
  pythonSpares?: number;
  /** Start the Python hosts with the pool (`eager`) or on the first Python call (`lazy`, default). */
  pythonStart?: "eager" | "lazy";
  /** Default `fresh` (TAO-RL.md §1). `shared`: calls with the same session key share state. */
  sessionMode?: SessionMode;
  /** Limits for calls that do not give their own. */
  limits?: Partial<SandboxLimits>;
  /** QuickJS stops itself at the deadline; its worker is killed only this long after it. Default 1000 ms. */
  javascriptGraceMs?: number;
  /** Python hosts are killed at the deadline plus this IPC allowance. Default 50 ms. */
  pythonGraceMs?: number;
  /** Calls queued on one QuickJS worker at once (pipelining hides the message round trip). Default 4. */
  pipelineDepth?: number;
  /** A Python host is replaced after this many calls (fresh mode cannot undo every module-level change). Default 5000. */
  maxCallsPerPythonHost?: number;
  /** Bundled host entry points; found beside the bundle or in dist/node/ by default. */
  workerFile?: string;
  pythonHostFile?: string;
  /** Heap cap of a Pyodide host process's JavaScript side (MiB). Default 256. */
  pythonHostHeapMb?: number;
}

/** One call to the pool. */
export interface PoolCall extends RunOptions {
  language: Language;
  code: string;
  limits?: Partial<SandboxLimits>;
}

export interface PoolStats {
  calls: number;
  queued: number;
  hostsStarted: Record<Language, number>;
  hostsLost: Record<Language, number>;
}

interface Pending {
  request: HostRequest;
  resolve(result: SandboxResult): void;
  enqueuedAt: number;
  startedAt: number;
}

interface Channel {
  post(message: HostRequest): void;
  kill(): void;
}

interface Host {
  language: Language;
  channel: Channel;
  ready: boolean;
  dead: boolean;
  spare: boolean;
  inflight: Pending[];
  /** When the pool last sent this host a call (a counter): ties go to the host idle longest. */
  lastSent: number;
  calls: number;
  sessions: Set<string>;
  watchdog: ReturnType<typeof setTimeout> | null;
  startTimer: ReturnType<typeof setTimeout> | null;
  stderrTail: string;
}

/**
 * Where util-linux's setpriv is, on Linux: Python hosts start under `setpriv --pdeathsig KILL`, so the
 * kernel kills a host whose parent died (even by SIGKILL, when nothing in Node can run): otherwise a host
 * busy in a runaway program (its event loop blocked, so it never notices) would spin on as an orphan.
 */
const SETPRIV = process.platform === "linux" ? ["/usr/bin/setpriv", "/bin/setpriv"].find((f) => existsSync(f)) : undefined;

const STARTUP_TIMEOUT_MS = 60_000;
const MAX_STARTUP_FAILURES = 3;

/** A bundled host entry: beside this module when running from dist/node/, else in <repo>/dist/node/. */
export function resolveHostFile(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, name), resolve(here, "../../dist/node", name)];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`sandbox host ${name} not found (looked in ${candidates.join(", ")}); run \`npm run build\``);
}

class Group {
  readonly hosts: Host[] = [];
  readonly queue: Pending[] = [];
  readonly sessionHost = new Map<string, Host>();
  startupFailures = 0;
  started = 0;
  lost = 0;
  constructor(readonly language: Language, readonly size: number, readonly spares: number, readonly depth: number) {}
}

export class SandboxPool {
  readonly sessionMode: SessionMode;
  private readonly limits: SandboxLimits;
  private readonly groups: Record<Language, Group>;
  private readonly options: PoolOptions;
  private nextId = 1;
  private sent = 0;
  private calls = 0;
  private closed = false;

  constructor(options: PoolOptions = {}) {
    this.options = options;
    this.sessionMode = options.sessionMode ?? DEFAULT_SESSION_MODE;
    this.limits = resolveLimits(options.limits ?? {}, DEFAULT_LIMITS);
    const jsWorkers = Math.max(1, options.javascriptWorkers ?? Math.min(4, availableParallelism()));
    this.groups = {
      javascript: new Group("javascript", jsWorkers, 0, Math.max(1, options.pipelineDepth ?? 4)),
      python: new Group("python", Math.max(1, options.pythonWorkers ?? 1), Math.max(0, options.pythonSpares ?? 1), 1),
    };
    this.fill(this.groups.javascript);
    if (options.pythonStart === "eager") this.fill(this.groups.python);
  }

  /** Runs one call. Never rejects: a lost or refused call resolves to an `error` (or `timeout`) result. */
  run(call: PoolCall): Promise<SandboxResult> {
    if (this.closed) return Promise.resolve(failure("SandboxError: the sandbox pool is closed"));
    const group = this.groups[call.language];
    if (!group) return Promise.resolve(failure(`SandboxError: unknown language ${JSON.stringify(call.language)}`));
    this.calls++;
    const session = this.sessionMode === "shared" ? call.session : undefined;
    const request: HostRequest = {
      type: "run", id: this.nextId++, language: call.language, code: String(call.code),
      limits: resolveLimits(call.limits ?? {}, this.limits),
      ...(call.prelude ? { prelude: call.prelude } : {}),
      ...(session !== undefined ? { session } : {}),
    };
    return new Promise((resolvePromise) => {
      group.queue.push({ request, resolve: resolvePromise, enqueuedAt: performance.now(), startedAt: 0 });
      this.fill(group);
      this.pump(group);
    });
  }

  /** A Sandbox view of one language, for code written against the interface. */
  sandbox(language: Language): Sandbox {
    return {
      language,
      run: (code, limits, options) => this.run({ language, code, limits, ...options }),
      closeSession: (session) => this.closeSession(session),
      close: async () => {},
    };
  }

  /** Forgets a shared session everywhere it lives. */
  async closeSession(session: string): Promise<void> {
    for (const group of Object.values(this.groups)) {
      const host = group.sessionHost.get(session);
      if (!host) continue;
      group.sessionHost.delete(session);
      host.sessions.delete(session);
      if (!host.dead) host.channel.post({ type: "close_session", id: this.nextId++, session });
    }
  }

  stats(): PoolStats {
    return {
      calls: this.calls,
      queued: this.groups.javascript.queue.length + this.groups.python.queue.length,
      hostsStarted: { javascript: this.groups.javascript.started, python: this.groups.python.started },
      hostsLost: { javascript: this.groups.javascript.lost, python: this.groups.python.lost },
    };
  }

  /** Resolves once every host of a language, spares included, is ready (benchmarks and tests exclude start-up). */
  async warm(language: Language): Promise<void> {
    const group = this.groups[language];
    this.fill(group);
    while (group.hosts.filter((h) => h.ready).length < group.size + group.spares) {
      if (group.startupFailures >= MAX_STARTUP_FAILURES) throw new Error(`cannot start ${language} sandbox hosts`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const group of Object.values(this.groups)) {
      for (const p of group.queue.splice(0)) p.resolve(failure("SandboxError: the sandbox pool was closed"));
      for (const host of [...group.hosts]) this.retire(group, host, "the sandbox pool was closed");
    }
  }

  // ---- hosts -------------------------------------------------------------------------------------------

  /** Starts hosts until the group has its serving hosts plus spares (Python starts only once needed). */
  private fill(group: Group): void {
    if (this.closed || group.startupFailures >= MAX_STARTUP_FAILURES) return;
    if (group.language === "python" && group.started === 0 && group.queue.length === 0 && this.options.pythonStart !== "eager") return;
    const alive = group.hosts.filter((h) => !h.dead);
    for (let i = alive.length; i < group.size + group.spares; i++) this.startHost(group, i >= group.size);
  }

  private startHost(group: Group, spare: boolean): void {
    group.started++;
    const host: Host = {
      language: group.language, channel: { post: () => {}, kill: () => {} }, ready: false, dead: false, spare,
      inflight: [], lastSent: 0, calls: 0, sessions: new Set(), watchdog: null, startTimer: null, stderrTail: "",
    };
    group.hosts.push(host);
    const onMessage = (m: HostReply) => this.onReply(group, host, m);
    const onExit = (why: string) => this.onExit(group, host, why);
    try {
      host.channel = group.language === "javascript" ? this.startWorker(host, onMessage, onExit) : this.startPythonHost(host, onMessage, onExit);
    } catch (e) {
      this.onExit(group, host, `cannot start: ${(e as Error).message}`);
      return;
    }
    host.startTimer = setTimeout(() => this.retire(group, host, `did not start within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS);
    host.startTimer.unref?.();
  }

  private startWorker(host: Host, onMessage: (m: HostReply) => void, onExit: (why: string) => void): Channel {
    const file = this.options.workerFile ?? resolveHostFile("sandbox.worker.mjs");
    const worker = new Worker(file, {
      workerData: { sessionMode: this.sessionMode },
      // QuickJS's own heap lives in wasm memory, bounded by its memory limit; this bounds the JS side.
      resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    worker.stdout.resume();
    worker.stderr.on("data", (d: Buffer) => { host.stderrTail = (host.stderrTail + d.toString()).slice(-2000); });
    worker.on("message", onMessage);
    worker.on("error", (e) => onExit(`crashed: ${e?.message ?? e}`));
    worker.on("exit", (code) => onExit(`exited with code ${code}`));
    return { post: (m) => worker.postMessage(m), kill: () => void worker.terminate() };
  }

  private startPythonHost(host: Host, onMessage: (m: HostReply) => void, onExit: (why: string) => void): Channel {
    const file = this.options.pythonHostFile ?? resolveHostFile("pyodide.worker.mjs");
    const args = [
      "--experimental-permission",
      `--allow-fs-read=${join(pyodidePackageDir(), "*")}`,
      `--allow-fs-read=${file}`,
      "--disallow-code-generation-from-strings",
      `--max-old-space-size=${this.options.pythonHostHeapMb ?? 256}`,
      "--no-warnings",
      file,
    ];
    const env: Record<string, string> = { TAORL_SANDBOX_SESSION_MODE: this.sessionMode };
    const [command, argv] = SETPRIV ? [SETPRIV, ["--pdeathsig", "KILL", "--", process.execPath, ...args]] : [process.execPath, args];
    const child = spawn(command, argv, { stdio: ["ignore", "ignore", "pipe", "ipc"], env, cwd: tmpdir(), serialization: "json" });
    child.stderr!.on("data", (d: Buffer) => { host.stderrTail = (host.stderrTail + d.toString()).slice(-2000); });
    child.on("message", (m) => onMessage(m as HostReply));
    child.on("error", (e) => onExit(`failed: ${e.message}`));
    child.on("exit", (code, signal) => onExit(signal ? `was killed (${signal})` : `exited with code ${code}`));
    return {
      post: (m) => { if (child.connected) child.send(m); },
      kill: () => { child.kill("SIGKILL"); },
    };
  }

  private onReply(group: Group, host: Host, m: HostReply): void {
    if (host.dead) return;
    if (m.type === "ready") {
      host.ready = true;
      group.startupFailures = 0;
      if (host.startTimer) clearTimeout(host.startTimer);
      this.pump(group);
      return;
    }
    if (m.type === "done") return;
    const index = host.inflight.findIndex((p) => p.request.id === m.id);
    if (index < 0) return;
    const [pending] = host.inflight.splice(index, 1);
    const result: SandboxResult = m.type === "result" ? m.result : failure(`SandboxError: ${m.error.name}: ${m.error.message}`, performance.now() - pending.startedAt);
    pending.resolve(result);
    host.calls++;
    this.armWatchdog(group, host);
    const tooOld = group.language === "python" && host.calls >= (this.options.maxCallsPerPythonHost ?? 5000);
    if ((m.type === "result" && m.retire) || tooOld) this.retire(group, host, m.type === "result" && m.retire ? "retired after a fatal runtime error" : "recycled");
    else this.pump(group);
  }

  private onExit(group: Group, host: Host, why: string): void {
    if (host.dead) return;
    if (!host.ready && !this.closed) group.startupFailures++;
    this.bury(group, host, `the ${group.language} sandbox host ${why}`, "error");
  }

  /** Kills a host on purpose (watchdog, retirement, close). */
  private retire(group: Group, host: Host, why: string): void {
    if (host.dead) return;
    this.bury(group, host, `the ${group.language} sandbox host ${why}`, "error");
  }

  /** Marks a host dead, reports its running call, requeues the ones it had not started, replaces it. */
  private bury(group: Group, host: Host, reason: string, status: "error" | "timeout", elapsedMs?: number): void {
    host.dead = true;
    group.lost++;
    if (host.watchdog) clearTimeout(host.watchdog);
    if (host.startTimer) clearTimeout(host.startTimer);
    host.channel.kill();
    group.hosts.splice(group.hosts.indexOf(host), 1);
    for (const s of host.sessions) group.sessionHost.delete(s);
    const [running, ...notStarted] = host.inflight.splice(0);
    if (running) {
      const detail = host.stderrTail.trim().split("\n").slice(-1)[0];
      const text = status === "timeout" ? reason : `SandboxError: ${reason} during the call${detail ? ` (${detail})` : ""}`;
      running.resolve({ status, stdout: "", stderr: `${text}\n`, elapsedMs: elapsedMs ?? performance.now() - running.startedAt });
    }
    group.queue.unshift(...notStarted);
    if (group.startupFailures >= MAX_STARTUP_FAILURES) {
      const detail = host.stderrTail.trim().split("\n").slice(-1)[0] ?? "";
      for (const p of group.queue.splice(0)) p.resolve(failure(`SandboxError: cannot start the ${group.language} sandbox (${reason}${detail ? `: ${detail}` : ""})`));
      return;
    }
    if (!this.closed) {
      const spare = group.hosts.find((h) => h.spare && !h.dead);
      if (spare) spare.spare = false;
      this.fill(group);
      this.pump(group);
    }
  }

  /** The watchdog follows the host's oldest call: it is the one running (hosts serve in order). */
  private armWatchdog(group: Group, host: Host): void {
    if (host.watchdog) clearTimeout(host.watchdog);
    host.watchdog = null;
    const head = host.inflight[0];
    if (!head || host.dead) return;
    head.startedAt = Math.max(head.startedAt, performance.now());
    const limits = (head.request as Extract<HostRequest, { type: "run" }>).limits;
    const grace = group.language === "javascript" ? this.options.javascriptGraceMs ?? 1000 : this.options.pythonGraceMs ?? 50;
    host.watchdog = setTimeout(() => {
      const elapsed = performance.now() - head.startedAt;
      this.bury(group, host, `TimeoutError: execution exceeded ${limits.timeoutMs} ms (sandbox host killed)`, "timeout", elapsed);
    }, limits.timeoutMs + grace);
  }

  private pump(group: Group): void {
    if (this.closed) return;
    let i = 0;
    while (i < group.queue.length && this.hasCapacity(group)) {
      const pending = group.queue[i];
      const host = this.pickHost(group, pending);
      if (!host) { i++; continue; }
      if (i === 0) group.queue.shift(); else group.queue.splice(i, 1);
      const session = pending.request.type === "run" ? pending.request.session : undefined;
      if (session !== undefined) { group.sessionHost.set(session, host); host.sessions.add(session); }
      host.inflight.push(pending);
      host.lastSent = ++this.sent;
      pending.startedAt = performance.now();
      host.channel.post(pending.request);
      if (host.inflight.length === 1) this.armWatchdog(group, host);
    }
  }

  private hasCapacity(group: Group): boolean {
    return group.hosts.some((h) => !h.dead && h.ready && !h.spare && h.inflight.length < group.depth);
  }

  /**
   * The least busy host; among equals the one idle longest, which has had the most time to prepare its
   * next call (a QuickJS host creates the next fresh context after replying).
   */
  private pickHost(group: Group, pending: Pending): Host | null {
    const session = pending.request.type === "run" ? pending.request.session : undefined;
    const bound = session !== undefined ? group.sessionHost.get(session) : undefined;
    if (bound && !bound.dead) return bound.ready && bound.inflight.length < group.depth ? bound : null;
    let best: Host | null = null;
    for (const h of group.hosts) {
      if (h.dead || !h.ready || h.spare || h.inflight.length >= group.depth) continue;
      if (!best || h.inflight.length < best.inflight.length || (h.inflight.length === best.inflight.length && h.lastSent < best.lastSent)) best = h;
    }
    return best;
  }
}

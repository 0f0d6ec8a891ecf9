// The inside of a sandbox host (worker thread or child process): answer every request, in order, with
// exactly one reply. Structural endpoint types keep this file free of node: imports.
import type { HostReply, HostRequest } from "./messages.js";
import type { Language, Sandbox } from "./sandbox.js";
import { failure } from "./sandbox.js";

export interface HostEndpoint {
  post(message: HostReply): void;
  listen(handler: (message: HostRequest) => void): void;
}

/** A worker_threads MessagePort (parentPort). */
export function portEndpoint(port: { postMessage(m: unknown): void; on(event: "message", f: (m: HostRequest) => void): unknown }): HostEndpoint {
  return { post: (m) => port.postMessage(m), listen: (f) => void port.on("message", f) };
}

/** A child process's IPC channel (`process` when started with an "ipc" stdio entry). */
export function ipcEndpoint(proc: { send?(m: unknown): boolean; on(event: "message", f: (m: HostRequest) => void): unknown }): HostEndpoint {
  if (!proc.send) throw new Error("sandbox host: started without an IPC channel");
  const send = proc.send.bind(proc);
  return { post: (m) => void send(m), listen: (f) => void proc.on("message", f) };
}

/** What a host asks of its sandboxes beyond the interface. */
interface Hosted {
  /** The host cannot be trusted with another call (Pyodide after a fatal error). */
  shouldRetire?(): boolean;
  /** Work for the next call, done once a reply is on its way (QuickJS: dispose the last runtime, create the next). */
  prepare?(): void;
}

/** Serves requests one at a time, in arrival order, then announces readiness; prepares between calls. */
export function serveSandboxHost(endpoint: HostEndpoint, sandboxes: Partial<Record<Language, Sandbox & Hosted>>): void {
  let chain: Promise<void> = Promise.resolve();
  const prepare = (language: Language) => {
    try { sandboxes[language]?.prepare?.(); } catch { /* the next call does the work itself */ }
  };
  const handle = async (m: HostRequest): Promise<HostReply> => {
    if (m.type === "close_session") {
      await Promise.all(Object.values(sandboxes).map((s) => s?.closeSession?.(m.session)));
      return { type: "done", id: m.id };
    }
    const sandbox = sandboxes[m.language];
    if (!sandbox) return { type: "result", id: m.id, result: failure(`SandboxError: this host does not run ${m.language}`) };
    const result = await sandbox.run(m.code, m.limits, { prelude: m.prelude, session: m.session });
    return sandbox.shouldRetire?.() ? { type: "result", id: m.id, result, retire: true } : { type: "result", id: m.id, result };
  };
  endpoint.listen((m) => {
    chain = chain.then(async () => {
      let reply: HostReply;
      try {
        reply = await handle(m);
      } catch (e) {
        const err = e as Error;
        reply = { type: "error", id: m.id, error: { name: err?.name ?? "Error", message: err?.message ?? String(e), stack: err?.stack } };
      }
      endpoint.post(reply);
      if (m.type === "run") prepare(m.language);
    });
  });
  for (const language of Object.keys(sandboxes) as Language[]) prepare(language);
  endpoint.post({ type: "ready", languages: Object.keys(sandboxes) as Language[] });
}

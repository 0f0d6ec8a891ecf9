// A Sandbox on another machine: SandboxFusion's POST /run_code (a `taorl serve` on Node, or SandboxFusion
// itself) over fetch. Runtime-free; the edge bundle uses it for Python, which cannot run on workerd.
//
// run_code has no prelude and no output limit: the prelude is sent in front of the code (the same fresh
// state, as the pool runs them), the output cap is applied here. A call that gets no answer by its deadline
// plus `graceMs` is a timeout; an unreachable or failing server is an `error` naming it. Never throws.
import type { SandboxResult } from "../types.js";
import { fromFusionResponse, type FusionRunCodeRequest, type FusionRunCodeResponse } from "./request.js";
import { OutputBuffer, failure, resolveLimits, worstStatus } from "./sandbox.js";
import type { Language, RunOptions, Sandbox, SandboxLimits } from "./sandbox.js";

export interface RemoteSandboxOptions {
  /** Base URL of the server; calls go to `<url>/run_code`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` (a taorl server with TAORL_API_TOKEN). */
  token?: string;
  /** Extra wait past a call's deadline before it counts as a timeout (network, queueing). Default 2000 ms. */
  graceMs?: number;
  fetch?: typeof fetch;
}

/** SandboxFusion's language names. */
const FUSION_NAME: Record<Language, string> = { python: "python", javascript: "nodejs" };

export class RemoteSandbox implements Sandbox {
  private readonly endpoint: string;

  constructor(readonly language: Language, private readonly options: RemoteSandboxOptions) {
    this.endpoint = `${options.url.replace(/\/+$/, "")}/run_code`;
  }

  async run(code: string, limits?: Partial<SandboxLimits>, options: RunOptions = {}): Promise<SandboxResult> {
    const t0 = performance.now();
    const lim = resolveLimits(limits);
    const prelude = options.prelude ? (options.prelude.endsWith("\n") ? options.prelude : `${options.prelude}\n`) : "";
    const body: FusionRunCodeRequest = {
      code: prelude + code, language: FUSION_NAME[this.language],
      run_timeout: lim.timeoutMs / 1000, memory_limit_MB: lim.memoryBytes / 2 ** 20,
    };
    const waitMs = lim.timeoutMs + (this.options.graceMs ?? 2000);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let res: Response;
    try {
      res = await (this.options.fetch ?? fetch)(this.endpoint, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(waitMs) });
    } catch (e) {
      const name = (e as Error)?.name;
      if (name === "TimeoutError" || name === "AbortError") {
        return failure(`TimeoutError: the remote sandbox ${this.endpoint} did not answer within ${waitMs} ms`, performance.now() - t0, "timeout");
      }
      return failure(`SandboxError: cannot reach the remote sandbox ${this.endpoint}: ${(e as Error)?.message ?? String(e)}`, performance.now() - t0);
    }
    let reply: FusionRunCodeResponse;
    try {
      const text = await res.text();
      if (!res.ok) return failure(`SandboxError: the remote sandbox ${this.endpoint} answered ${res.status}: ${text.slice(0, 200)}`, performance.now() - t0);
      reply = JSON.parse(text) as FusionRunCodeResponse;
    } catch (e) {
      return failure(`SandboxError: unreadable answer from the remote sandbox ${this.endpoint}: ${(e as Error)?.message ?? String(e)}`, performance.now() - t0);
    }
    const result = fromFusionResponse(reply);
    const out = new OutputBuffer(lim.outputBytes);
    out.write("stdout", result.stdout);
    out.write("stderr", result.stderr);
    return {
      status: out.exceeded ? worstStatus(result.status, "output_limit") : result.status,
      stdout: out.stdout, stderr: out.stderr, elapsedMs: performance.now() - t0,
    };
  }

  async close(): Promise<void> {}
}

// A ToolRunner over one Sandbox per language, for runtimes without the Node pool (the edge bundle:
// QuickJS in-process, Python on a remote sandbox when one is configured). A language without a sandbox
// reports why (`unavailable`), and a call in it resolves to an error result saying so. Runtime-free.
import type { SandboxResult } from "../types.js";
import type { ToolRunner } from "./request.js";
import { failure, type Language, type Sandbox, type SandboxLimits } from "./sandbox.js";

export class ToolRouter implements ToolRunner {
  constructor(
    private readonly sandboxes: Partial<Record<Language, Sandbox>>,
    /** Why each language without a sandbox is missing. */
    private readonly reasons: Partial<Record<Language, string>> = {},
  ) {}

  unavailable(language: Language): string | undefined {
    if (this.sandboxes[language]) return undefined;
    return this.reasons[language] ?? `no ${language} sandbox in this runtime`;
  }

  run(call: { language: Language; code: string; limits?: Partial<SandboxLimits>; prelude?: string; session?: string }): Promise<SandboxResult> {
    const sandbox = this.sandboxes[call.language];
    if (!sandbox) return Promise.resolve(failure(`SandboxError: ${this.unavailable(call.language)}`));
    return sandbox.run(call.code, call.limits, { prelude: call.prelude, session: call.session });
  }

  async close(): Promise<void> {
    for (const s of Object.values(this.sandboxes)) await s?.close();
  }
}

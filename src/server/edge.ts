// Edge-worker handler (Cloudflare workerd and other fetch-handler runtimes): the same app as on Node, built
// once per isolate from the worker's environment bindings (TAORL_API_TOKEN, TAORL_MAX_BODY_BYTES) plus the
// capabilities the worker entry (worker/edge.ts) wires from its modules: sandbox, generation, jobs.
import type { Hono } from "hono";
import { createApp, type AppDeps } from "./app.js";

declare const __TAORL_VERSION__: string;

/** The worker's bindings (workerd's fromEnvironment gives null for an unset variable). */
export interface EdgeEnv {
  TAORL_API_TOKEN?: string | null;
  TAORL_MAX_BODY_BYTES?: string | null;
  /** A `taorl serve` (or SandboxFusion) whose POST /run_code runs the Python tool calls. */
  TAORL_SANDBOX_URL?: string | null;
  /** Bearer token for TAORL_SANDBOX_URL. */
  TAORL_SANDBOX_TOKEN?: string | null;
}

export type EdgeCapabilities = Pick<AppDeps, "tools" | "generator" | "jobs" | "policyUnavailable" | "info">;

/** The module worker's default export: `{ fetch }`, the app built on the first request. */
export function edgeWorker(capabilities: (env: EdgeEnv) => EdgeCapabilities = () => ({})): { fetch(request: Request, env?: EdgeEnv): Response | Promise<Response> } {
  let app: Hono | undefined;
  return {
    fetch(request: Request, env: EdgeEnv = {}): Response | Promise<Response> {
      if (!app) {
        const caps = capabilities(env);
        app = createApp({
          ...caps,
          version: typeof __TAORL_VERSION__ === "string" ? __TAORL_VERSION__ : "dev",
          token: env.TAORL_API_TOKEN || undefined,
          maxBodyBytes: env.TAORL_MAX_BODY_BYTES ? Number(env.TAORL_MAX_BODY_BYTES) : undefined,
          info: () => ({ runtime: "edge", ...(caps.info?.() ?? {}) }),
        });
      }
      return app.fetch(request);
    },
  };
}

// Edge-worker entry (Cloudflare workerd and other fetch-handler runtimes): the same app as on Node.
// Settings come from the worker's environment bindings: TAORL_API_TOKEN, TAORL_MAX_BODY_BYTES.
import type { Hono } from "hono";
import { createApp } from "./app.js";

declare const __TAORL_VERSION__: string;

interface EdgeEnv {
  TAORL_API_TOKEN?: string;
  TAORL_MAX_BODY_BYTES?: string;
}

let app: Hono | undefined;

export default {
  fetch(request: Request, env: EdgeEnv = {}): Response | Promise<Response> {
    app ??= createApp({
      version: typeof __TAORL_VERSION__ === "string" ? __TAORL_VERSION__ : "dev",
      token: env.TAORL_API_TOKEN || undefined,
      maxBodyBytes: env.TAORL_MAX_BODY_BYTES ? Number(env.TAORL_MAX_BODY_BYTES) : undefined,
      info: () => ({ runtime: "edge" }),
    });
    return app.fetch(request);
  },
};

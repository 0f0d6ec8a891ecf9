// Node entry point of the HTTP API: the same app as on edge workers, served by @hono/node-server.
import { serve, type ServerType } from "@hono/node-server";
import { SandboxPool } from "../sandbox/node.js";
import { createApp, type AppDeps } from "./app.js";

export interface NodeServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the app on Node with a sandbox pool for the tool routes (unless `deps.tools` is given). */
export function startNodeServer(deps: AppDeps, port: number, hostname: string): Promise<NodeServer> {
  const pool = deps.tools ? null : new SandboxPool();
  const app = createApp({ ...deps, tools: deps.tools ?? pool!, info: () => ({ runtime: "node", sandbox: ["javascript", "python"], ...(deps.info?.() ?? {}) }) });
  return new Promise((resolve, reject) => {
    let server: ServerType;
    try {
      server = serve({ fetch: app.fetch, port, hostname }, (addr) => {
        const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
        resolve({
          url: `http://${host}:${addr.port}`,
          close: () => new Promise<void>((done) => server.close(() => done())).then(() => pool?.close()),
        });
      });
      server.on("error", reject);
    } catch (e) {
      reject(e);
    }
  });
}

// Node entry point of the HTTP API: the same app as on edge workers, served by @hono/node-server.
import { serve, type ServerType } from "@hono/node-server";
import { createApp, type AppDeps } from "./app.js";

export interface NodeServer {
  url: string;
  close(): Promise<void>;
}

export function startNodeServer(deps: AppDeps, port: number, hostname: string): Promise<NodeServer> {
  const app = createApp(deps);
  return new Promise((resolve, reject) => {
    let server: ServerType;
    try {
      server = serve({ fetch: app.fetch, port, hostname }, (addr) => {
        const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
        resolve({
          url: `http://${host}:${addr.port}`,
          close: () => new Promise<void>((done) => server.close(() => done())),
        });
      });
      server.on("error", reject);
    } catch (e) {
      reject(e);
    }
  });
}

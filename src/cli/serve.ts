// `taorl serve`: the HTTP API on Node. Flags win over environment variables.
import { startNodeServer } from "../server/node.js";
import { UsageError, parseArgs } from "./args.js";

export const SERVE_USAGE = `taorl serve [--port 8787] [--host 127.0.0.1]

  Serves the HTTP API (GET /health, GET /v1/info, POST /v1/tao/shape, GET /openapi.json).
  Environment: TAORL_PORT, TAORL_HOST, TAORL_API_TOKEN (when set, /v1 routes need
  "Authorization: Bearer <token>"), TAORL_MAX_BODY_BYTES.`;

export async function runServe(argv: readonly string[], version: string, io: { stdout: (s: string) => void }): Promise<void> {
  const { opts, rest } = parseArgs(argv, { values: ["port", "host"], flags: [] });
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  const port = Number(opts.port ?? process.env.TAORL_PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: expected 0-65535, got ${opts.port ?? process.env.TAORL_PORT}`);
  const host = opts.host ?? process.env.TAORL_HOST ?? "127.0.0.1";
  const maxBody = process.env.TAORL_MAX_BODY_BYTES ? Number(process.env.TAORL_MAX_BODY_BYTES) : undefined;
  if (maxBody !== undefined && !(Number.isSafeInteger(maxBody) && maxBody > 0)) throw new UsageError(`TAORL_MAX_BODY_BYTES: expected a positive integer`);
  const token = process.env.TAORL_API_TOKEN || undefined;
  const server = await startNodeServer({ version, token, maxBodyBytes: maxBody }, port, host);
  io.stdout(`taorl ${version} serving on ${server.url}${token ? " (token required on /v1)" : ""}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

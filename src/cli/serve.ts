// `taorl serve`: the HTTP API on Node. Flags win over environment variables.
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { availableBenchmarks } from "../agent/benchmarks.js";
import { SandboxPool } from "../sandbox/node.js";
import { startNodeServer } from "../server/node.js";
import { UsageError, parseArgs } from "./args.js";
import { JobQueue, JobsDirInUseError, PolicyGenerator, policyUnavailable } from "./serve-deps.js";

export const SERVE_USAGE = `taorl serve [--port 8787] [--host 127.0.0.1] [--model models/default] [--jobs runs/jobs] [--workers 2] [--python-workers 1]

  Serves a dashboard page at GET / (jobs, live curves, sandbox) and the HTTP API: GET /health,
  GET /v1/info, POST /v1/tao/shape, POST /v1/sandbox/run, POST /run_code,
  POST /v1/generate (tool-integrated rollouts with the --model policy; JSON or server-sent events),
  POST /v1/train and POST /v1/evaluate (jobs, one at a time), GET /v1/jobs, GET /v1/jobs/:id,
  GET /v1/jobs/:id/events (SSE), POST /v1/jobs/:id/cancel, GET /openapi.json.
  --model: a Hugging Face model folder (without a config.json there, generation and job routes answer
  501). --jobs: where jobs live (<id>/job.json, events.jsonl, run/); a restarted server lists them and
  resumes the training job that was running from its checkpoint. Ctrl-C / SIGTERM checkpoints a running
  training job, then exits. --workers: JavaScript sandbox worker threads (default: min(2, cores));
  --python-workers: Pyodide processes (default 1; ~100 MB each), each with a warm spare.
  Environment (flags win): TAORL_PORT, TAORL_HOST, TAORL_MODEL, TAORL_JOBS, TAORL_WORKERS,
  TAORL_PYTHON_WORKERS, TAORL_API_TOKEN (when set, /v1 routes need "Authorization: Bearer <token>";
  environment only, so it never shows in a process list), TAORL_MAX_BODY_BYTES.`;

export async function runServe(argv: readonly string[], version: string, io: { stdout: (s: string) => void; stderr?: (s: string) => void }, root: string): Promise<void> {
  const { opts, rest } = parseArgs(argv, { values: ["port", "host", "model", "jobs", "workers", "python-workers"], flags: [] });
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  const port = Number(opts.port ?? process.env.TAORL_PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: expected 0-65535, got ${opts.port ?? process.env.TAORL_PORT}`);
  const host = opts.host ?? process.env.TAORL_HOST ?? "127.0.0.1";
  const maxBody = process.env.TAORL_MAX_BODY_BYTES ? Number(process.env.TAORL_MAX_BODY_BYTES) : undefined;
  if (maxBody !== undefined && !(Number.isSafeInteger(maxBody) && maxBody > 0)) throw new UsageError(`TAORL_MAX_BODY_BYTES: expected a positive integer`);
  const token = process.env.TAORL_API_TOKEN || undefined;
  const model = resolve(opts.model ?? (process.env.TAORL_MODEL || join(root, "models", "default")));
  const jobsDir = resolve(opts.jobs ?? (process.env.TAORL_JOBS || join(root, "runs", "jobs")));
  const count = (flag: string, env: string, fallback: number, max: number): number => {
    const raw = opts[flag] ?? process.env[env];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${flag} (${env}): expected an integer in 1-${max}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const workers = { javascript: count("workers", "TAORL_WORKERS", Math.min(2, availableParallelism()), 64), python: count("python-workers", "TAORL_PYTHON_WORKERS", 1, 16) };

  const benchmarks = availableBenchmarks(); // what /v1/evaluate can draw from (listed in /v1/info)
  const pool = new SandboxPool({ javascriptWorkers: workers.javascript, pythonWorkers: workers.python });
  const runTool = pool.run.bind(pool);
  const unavailable = policyUnavailable(model);
  const generator = unavailable ? undefined : new PolicyGenerator(model, runTool);
  let jobs: JobQueue | undefined;
  try {
    jobs = unavailable ? undefined : new JobQueue({ dir: jobsDir, model, runTool });
  } catch (e) {
    await Promise.allSettled([generator?.close(), pool.close()]);
    if (e instanceof JobsDirInUseError) throw new UsageError(e.message);
    throw e;
  }
  let server: Awaited<ReturnType<typeof startNodeServer>>;
  try {
    server = await startNodeServer(
      { version, token, maxBodyBytes: maxBody, tools: pool, generator, jobs, policyUnavailable: unavailable, info: () => ({ model, jobs: jobsDir, sandbox_workers: workers, benchmarks }) },
      port, host,
    );
  } catch (e) {
    // nothing may keep the process alive after a failed listen (sandbox workers, the job queue)
    await Promise.allSettled([jobs?.close(), generator?.close(), pool.close()]);
    const code = (e as { code?: string }).code;
    if (code === "EADDRINUSE") throw new UsageError(`${host}:${port} is already in use (another taorl serve?): stop it, or pass --port N (or TAORL_PORT)`);
    if (code === "EACCES") throw new UsageError(`not allowed to listen on ${host}:${port}: pick a port above 1023 with --port N`);
    throw e;
  }
  io.stdout(`taorl ${version} serving on ${server.url}${token ? " (token required on /v1)" : ""}\n`);
  io.stdout(`  dashboard  ${server.url}/   (evaluation and training jobs with live curves, the sandbox)\n` +
    `  API        ${server.url}/openapi.json   e.g. curl -s ${server.url}/v1/info\n` +
    `  policy     ${unavailable ? "none" : model}; jobs in ${jobsDir}; Ctrl-C stops (a training job checkpoints first)\n`);
  if (unavailable) io.stderr?.(`taorl serve: generation and jobs disabled: ${unavailable}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1); // a second signal: leave now
    stopping = true;
    io.stderr?.("taorl serve: stopping (a running training job checkpoints first)...\n");
    void (async () => {
      await jobs?.close();
      // open event streams and a long generation must not hold the exit for ever
      await Promise.race([Promise.all([server.close(), generator?.close()]), new Promise((r) => setTimeout(r, 5000).unref())]);
      await pool.close();
      process.exit(0);
    })();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

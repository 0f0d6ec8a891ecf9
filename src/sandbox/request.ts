// The tool request the HTTP API exposes (validated with zod), and a mapping to and from SandboxFusion's
// `run_code` shapes so trainers that already speak SandboxFusion (verl's code tool) can use this sandbox
// unchanged. Runtime-free; anything with a `run(call)` method (SandboxPool) executes the calls.
import { z } from "zod";
import type { SandboxResult, ToolOutcome } from "../types.js";
import type { Language, SandboxLimits } from "./sandbox.js";
import { FINAL_ANSWER_PRELUDE, classifyOutcome, formatObservation } from "./tir.js";

/** What executes calls: SandboxPool, or any object with the same `run`. */
export interface ToolRunner {
  run(call: { language: Language; code: string; limits?: Partial<SandboxLimits>; prelude?: string; session?: string }): Promise<SandboxResult>;
  /** Why a language cannot run here (the HTTP API answers 501 with it), or undefined when it can. */
  unavailable?(language: Language): string | undefined;
}

export const MAX_CODE_BYTES = 1024 * 1024;

export const ToolRequestSchema = z.strictObject({
  language: z.enum(["python", "javascript"]).describe("tool language: python (Pyodide) or javascript (QuickJS)"),
  code: z.string().max(MAX_CODE_BYTES).describe("the program; print what should come back"),
  timeout_ms: z.number().int().min(1).max(600_000).optional().describe("wall time of the call; default 3000"),
  memory_mb: z.number().int().min(1).max(4096).optional().describe("memory limit; default 128"),
  output_bytes: z.number().int().min(1).max(64 * 1024 * 1024).optional().describe("stdout + stderr kept; default 65536"),
  final_answer: z.boolean().default(false).describe("define final_answer(x), which prints \\boxed{x}, before the code"),
  session: z.string().min(1).max(200).optional().describe("calls with the same session share state when the server runs sessions shared"),
  max_obs_chars: z.number().int().min(2).max(1_000_000).default(512).describe("observation text cut (TAO-RL.md §1)"),
});
export type ToolRequest = z.input<typeof ToolRequestSchema>;

export interface ToolResponse extends SandboxResult {
  outcome: ToolOutcome;
  /** `\nCode execution result: <text>\n`, cut to max_obs_chars. */
  observation: string;
}

export interface FieldIssue {
  path: string;
  message: string;
}

/** Invalid request: carries every offending field by path, for a 400 problem response. */
export class ToolRequestError extends Error {
  override readonly name = "ToolRequestError";
  constructor(readonly issues: FieldIssue[]) {
    super(`invalid tool request: ${issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; ")}`);
  }
}

function issuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}

/** Validates a request, throwing ToolRequestError with field paths. */
export function parseToolRequest(input: unknown): z.output<typeof ToolRequestSchema> {
  const parsed = ToolRequestSchema.safeParse(input);
  if (!parsed.success) throw new ToolRequestError(issuesOf(parsed.error));
  return parsed.data;
}

/** Validates and runs one tool call. Invalid input throws ToolRequestError; execution never throws. */
export async function runTool(runner: ToolRunner, input: unknown): Promise<ToolResponse> {
  const req = parseToolRequest(input);
  const limits: Partial<SandboxLimits> = {};
  if (req.timeout_ms !== undefined) limits.timeoutMs = req.timeout_ms;
  if (req.memory_mb !== undefined) limits.memoryBytes = req.memory_mb * 1024 * 1024;
  if (req.output_bytes !== undefined) limits.outputBytes = req.output_bytes;
  const result = await runner.run({
    language: req.language, code: req.code, limits,
    ...(req.final_answer ? { prelude: FINAL_ANSWER_PRELUDE[req.language] } : {}),
    ...(req.session !== undefined ? { session: req.session } : {}),
  });
  return { ...result, outcome: classifyOutcome(result), observation: formatObservation(result, req.max_obs_chars) };
}

// ---- SandboxFusion ---------------------------------------------------------------------------------------

/** SandboxFusion languages this sandbox serves, and what each runs on. */
export const FUSION_LANGUAGES: Record<string, Language> = { python: "python", nodejs: "javascript", javascript: "javascript", js: "javascript" };

export const FusionRunCodeRequestSchema = z.object({
  code: z.string().max(MAX_CODE_BYTES),
  language: z.string(),
  compile_timeout: z.number().optional(),
  run_timeout: z.number().positive().optional(),
  memory_limit_MB: z.number().optional(),
  stdin: z.string().optional(),
  files: z.record(z.string(), z.string().nullable()).optional(),
  fetch_files: z.array(z.string()).optional(),
});
export type FusionRunCodeRequest = z.input<typeof FusionRunCodeRequestSchema>;

export type FusionRunStatus = "Success" | "Failed" | "SandboxError";
export type FusionCommandStatus = "Finished" | "Error" | "TimeLimitExceeded";

export interface FusionCommandResult {
  status: FusionCommandStatus;
  execution_time: number | null;
  return_code: number | null;
  stdout: string | null;
  stderr: string | null;
}

export interface FusionRunCodeResponse {
  status: FusionRunStatus;
  message: string;
  compile_result: FusionCommandResult | null;
  run_result: FusionCommandResult | null;
  executor_pod_name: string | null;
  files: Record<string, string>;
}

/** A SandboxFusion request as one of our calls, or the reason we cannot serve it faithfully. */
export function fromFusionRequest(input: unknown): { call: { language: Language; code: string; limits: Partial<SandboxLimits> } } | { error: string } {
  const parsed = FusionRunCodeRequestSchema.safeParse(input);
  if (!parsed.success) return { error: `invalid run_code request: ${issuesOf(parsed.error).map((i) => `${i.path}: ${i.message}`).join("; ")}` };
  const req = parsed.data;
  const language = FUSION_LANGUAGES[req.language];
  if (!language) return { error: `language ${JSON.stringify(req.language)} is not supported (supported: ${Object.keys(FUSION_LANGUAGES).join(", ")})` };
  if (req.stdin) return { error: "stdin is not supported" };
  if ((req.files && Object.keys(req.files).length > 0) || (req.fetch_files && req.fetch_files.length > 0)) return { error: "files and fetch_files are not supported" };
  const limits: Partial<SandboxLimits> = {};
  if (req.run_timeout !== undefined) limits.timeoutMs = Math.round(req.run_timeout * 1000);
  if (req.memory_limit_MB !== undefined && req.memory_limit_MB > 0) limits.memoryBytes = Math.round(req.memory_limit_MB * 1024 * 1024);
  return { call: { language, code: req.code, limits } };
}

/**
 * Our result in SandboxFusion's response shape. ok → Success/Finished/0; error, oom and output_limit →
 * Failed/Finished/1 (SandboxFusion has no separate memory or output states; stderr says which);
 * timeout → Failed/TimeLimitExceeded with no return code.
 */
export function toFusionResponse(result: SandboxResult): FusionRunCodeResponse {
  const timedOut = result.status === "timeout";
  const ok = result.status === "ok";
  return {
    status: ok ? "Success" : "Failed",
    message: ok ? "" : result.status,
    compile_result: null,
    run_result: {
      status: timedOut ? "TimeLimitExceeded" : "Finished",
      execution_time: result.elapsedMs / 1000,
      return_code: timedOut ? null : ok ? 0 : 1,
      stdout: result.stdout,
      stderr: result.stderr,
    },
    executor_pod_name: null,
    files: {},
  };
}

/** SandboxFusion's answer to a request it could not run at all. */
export function fusionSandboxError(message: string): FusionRunCodeResponse {
  return { status: "SandboxError", message, compile_result: null, run_result: null, executor_pod_name: null, files: {} };
}

/** Serves one SandboxFusion `run_code` request. Never throws. */
export async function runFusionCode(runner: ToolRunner, input: unknown): Promise<FusionRunCodeResponse> {
  const mapped = fromFusionRequest(input);
  if ("error" in mapped) return fusionSandboxError(mapped.error);
  return toFusionResponse(await runner.run(mapped.call));
}

/**
 * A SandboxFusion response read back as our result (for clients that talk to a remote SandboxFusion).
 * A taorl server's `message` names the status of a failed run (toFusionResponse): oom and output_limit
 * come back as such; from any other SandboxFusion they are `error`.
 */
export function fromFusionResponse(res: FusionRunCodeResponse): SandboxResult {
  const run = res.run_result;
  const elapsedMs = (run?.execution_time ?? 0) * 1000;
  if (res.status === "SandboxError" || !run) return { status: "error", stdout: "", stderr: `SandboxError: ${res.message}\n`, elapsedMs };
  const stdout = run.stdout ?? "";
  const stderr = run.stderr ?? "";
  if (run.status === "TimeLimitExceeded") return { status: "timeout", stdout, stderr, elapsedMs };
  if (res.status === "Success" && run.return_code === 0) return { status: "ok", stdout, stderr, elapsedMs };
  if (res.message === "oom" || res.message === "output_limit") return { status: res.message, stdout, stderr, elapsedMs };
  return { status: "error", stdout, stderr, elapsedMs };
}

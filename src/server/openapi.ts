// The OpenAPI 3.1 document, with request schemas generated from the same zod schemas that validate.
import { z } from "zod";
import { taoRlSchema } from "../config.js";
import { trajectoryRecordSchema } from "../trajectories.js";
import { FusionRunCodeRequestSchema, ToolRequestSchema } from "../sandbox/request.js";
import { CHECKPOINT_FILES, evaluateRequestSchema, generateRequestSchema, trainRequestSchema } from "./policy-api.js";

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

const problemSchema = {
  type: "object",
  properties: {
    type: { type: "string" }, title: { type: "string" }, status: { type: "integer" }, detail: { type: "string" },
    errors: { type: "array", items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } } },
  },
  required: ["type", "title", "status", "detail"],
};

const body = (name: string) => ({ required: true, content: { "application/json": { schema: { $ref: `#/components/schemas/${name}` } } } });
const sse = (description: string) => ({ description, content: { "text/event-stream": { schema: { type: "string" } } } });
const jobId = [{ name: "id", in: "path", required: true, schema: { type: "string" } }];

const problems = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: "problem details", content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } } }]));

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: { title: "taorl", version, description: "TAO-RL for tool-using LLM policies: shaping, sandbox, rollouts, training." },
    components: {
      schemas: {
        Problem: problemSchema,
        Trajectory: json(trajectoryRecordSchema),
        TaoRlConfig: json(taoRlSchema),
        ToolRequest: json(ToolRequestSchema),
        FusionRunCodeRequest: json(FusionRunCodeRequestSchema),
        GenerateRequest: json(generateRequestSchema),
        TrainRequest: json(trainRequestSchema),
        EvaluateRequest: json(evaluateRequestSchema),
      },
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    security: [{ bearer: [] }],
    paths: {
      "/": { get: { summary: "the dashboard: an HTML page that drives this API (jobs, live charts, sandbox)", security: [], responses: { "200": { description: "text/html" } } } },
      "/health": { get: { summary: "liveness", security: [], responses: { "200": { description: "ok" } } } },
      "/v1/info": { get: { summary: "version, defaults, presets and limits", responses: { "200": { description: "info" }, ...problems(401) } } },
      "/v1/sandbox/run": {
        post: {
          summary: "run one tool call in the WASM sandbox (QuickJS or Pyodide); result, TIR outcome and observation",
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/ToolRequest" } } } },
          responses: { "200": { description: "status, stdout, stderr, elapsedMs, outcome, observation" }, ...problems(400, 401, 411, 413, 415, 501) },
        },
      },
      "/run_code": {
        post: {
          summary: "SandboxFusion-compatible run_code",
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/FusionRunCodeRequest" } } } },
          responses: { "200": { description: "SandboxFusion response (status, run_result)" }, ...problems(400, 401, 411, 413, 415, 501) },
        },
      },
      "/v1/generate": {
        post: {
          summary: "multi-turn tool-integrated rollouts with the server's policy (n samples per prompt; rewards when answers are given)",
          requestBody: body("GenerateRequest"),
          responses: {
            "200": {
              description: "{ seed, trajectories: [{ prompt_index, sample, response, answer, turns, tool_calls, valid_tool_calls, reward?, truncated, void, tokens }], time_ms }; " +
                "with stream: true, text/event-stream: a `trajectory` event each as it finishes, then `done` (or `error`)",
              content: { "application/json": { schema: { type: "object" } }, "text/event-stream": { schema: { type: "string" } } },
            },
            ...problems(400, 401, 411, 413, 415, 429, 501),
          },
        },
      },
      "/v1/train": {
        post: {
          summary: "start a training job (TAO-RL or an ablation preset) from the server's policy; it checkpoints and resumes",
          requestBody: body("TrainRequest"),
          responses: { "202": { description: "the queued job (Location: /v1/jobs/{id})" }, ...problems(400, 401, 411, 413, 415, 429, 501) },
        },
      },
      "/v1/evaluate": {
        post: {
          summary: "start an evaluation job (avg@k, pass@k, tool statistics) on the procedural task family's test split",
          requestBody: body("EvaluateRequest"),
          responses: { "202": { description: "the queued job (Location: /v1/jobs/{id})" }, "200": { description: "the finished job, where evaluation runs within the request (the edge bundle)" }, ...problems(400, 401, 411, 413, 415, 429, 501) },
        },
      },
      "/v1/jobs": { get: { summary: "all jobs, oldest first (past ones survive restarts)", responses: { "200": { description: "{ jobs: [job] }" }, ...problems(401, 501) } } },
      "/v1/jobs/{id}": {
        get: { summary: "one job: status, progress, result or error", parameters: jobId, responses: { "200": { description: "the job" }, ...problems(401, 404, 501) } },
      },
      "/v1/jobs/{id}/events": {
        get: {
          summary: "the job's events as server-sent events (status, progress, metrics, eval): past ones first (after Last-Event-ID), then live until it ends",
          parameters: [...jobId, { name: "after", in: "query", required: false, schema: { type: "integer", minimum: 0 } }],
          responses: { "200": sse("status | progress | metrics | eval events, data JSON"), ...problems(400, 401, 404, 501) },
        },
      },
      "/v1/jobs/{id}/cancel": {
        post: {
          summary: "stop a queued or running job (a training run checkpoints after its current step)",
          parameters: jobId,
          responses: { "202": { description: "the job, cancel_requested or cancelled" }, ...problems(401, 404, 409, 501) },
        },
      },
      "/v1/checkpoints": {
        get: { summary: "the training jobs' latest checkpoints: step, time, files with sizes and download URLs", responses: { "200": { description: "{ checkpoints: [{ job, step, saved_at, files: [{ name, bytes, url }] }] }" }, ...problems(401, 501) } },
      },
      "/v1/checkpoints/{job}/{file}": {
        get: {
          summary: "download one file of a job's checkpoint (a Hugging Face model folder plus optimizer.safetensors and state.json)",
          parameters: [
            { name: "job", in: "path", required: true, schema: { type: "string" } },
            { name: "file", in: "path", required: true, schema: { type: "string", enum: [...CHECKPOINT_FILES] } },
          ],
          responses: { "200": { description: "the file (application/json or application/octet-stream)" }, ...problems(401, 404, 501) },
        },
      },
      "/v1/tao/shape": {
        post: {
          summary: "TAO-RL filters, GRPO advantages and the entropy bonus for trajectories produced anywhere",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  additionalProperties: false,
                  required: ["trajectories"],
                  properties: {
                    trajectories: { type: "array", minItems: 1, items: { $ref: "#/components/schemas/Trajectory" } },
                    config: { $ref: "#/components/schemas/TaoRlConfig" },
                    refill: { type: "boolean" },
                    seed: { type: "integer" },
                  },
                },
              },
            },
          },
          responses: {
            "200": { description: "one shaped record per trajectory (plus refill copies), filter counts and bonus metrics" },
            ...problems(400, 401, 411, 413, 415),
          },
        },
      },
    },
  };
}

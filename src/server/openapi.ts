// The OpenAPI 3.1 document, with request schemas generated from the same zod schemas that validate.
import { z } from "zod";
import { taoRlSchema } from "../config.js";
import { trajectoryRecordSchema } from "../trajectories.js";
import { FusionRunCodeRequestSchema, ToolRequestSchema } from "../sandbox/request.js";

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

const problemSchema = {
  type: "object",
  properties: {
    type: { type: "string" }, title: { type: "string" }, status: { type: "integer" }, detail: { type: "string" },
    errors: { type: "array", items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } } },
  },
  required: ["type", "title", "status", "detail"],
};

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
      },
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    security: [{ bearer: [] }],
    paths: {
      "/health": { get: { summary: "liveness", security: [], responses: { "200": { description: "ok" } } } },
      "/v1/info": { get: { summary: "version, defaults and limits", responses: { "200": { description: "info" }, ...problems(401) } } },
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

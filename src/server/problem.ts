// Errors as RFC 9457 problem details (application/problem+json), one shape for every route.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export interface FieldError {
  /** Dotted path into the request body, e.g. `trajectories.3.entropy.2`. */
  path: string;
  message: string;
}

const TITLES: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 411: "Length Required",
  413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented",
  503: "Service Unavailable",
};

/** Thrown by handlers; turned into a problem response by the app's error handler. */
export class HttpProblem extends Error {
  constructor(readonly status: ContentfulStatusCode, readonly detail: string, readonly errors: FieldError[] = []) {
    super(detail);
  }
}

export function problem(c: Context, status: ContentfulStatusCode, detail: string, errors: FieldError[] = []): Response {
  const body: Record<string, unknown> = { type: "about:blank", title: TITLES[status] ?? "Error", status, detail };
  if (errors.length > 0) body.errors = errors;
  return c.body(JSON.stringify(body), status, { "content-type": "application/problem+json" });
}

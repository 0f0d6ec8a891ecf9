// Node-only. First module evaluated in the Pyodide host process, before Pyodide loads. The process runs
// under Node's permission model (file reads limited to Pyodide's files and the host bundle, no writes,
// no child processes, no workers); Node 20's model has no network permission, so the network APIs are
// disabled here instead. This is defence in depth behind the process boundary, not the boundary itself.
import { createRequire, syncBuiltinESMExports } from "node:module";
import { constants as fsConstants } from "node:fs";

const require = createRequire(import.meta.url);

function denied(what: string): () => never {
  return () => {
    throw Object.assign(new Error(`${what} is disabled in the sandbox`), { code: "ERR_ACCESS_DENIED" });
  };
}

/** Disables sockets, DNS, HTTP and fetch for the rest of this process's life. */
export function lockDownNetwork(): void {
  const net = require("node:net");
  const tls = require("node:tls");
  const dgram = require("node:dgram");
  const dns = require("node:dns");
  const http = require("node:http");
  const https = require("node:https");
  net.Socket.prototype.connect = denied("net.Socket.connect");
  net.Server.prototype.listen = denied("net.Server.listen");
  for (const name of ["connect", "createConnection", "createServer"]) net[name] = denied(`net.${name}`);
  tls.connect = denied("tls.connect");
  tls.createServer = denied("tls.createServer");
  dgram.createSocket = denied("dgram.createSocket");
  dgram.Socket.prototype.bind = denied("dgram.Socket.bind");
  dgram.Socket.prototype.send = denied("dgram.Socket.send");
  for (const name of ["lookup", "resolve", "resolve4", "resolve6"]) dns[name] = denied(`dns.${name}`);
  dns.promises.lookup = denied("dns.promises.lookup");
  for (const mod of [http, https]) for (const name of ["request", "get", "createServer"]) mod[name] = denied(`http.${name}`);
  syncBuiltinESMExports();
  const g = globalThis as Record<string, unknown>;
  for (const name of ["fetch", "WebSocket", "EventSource", "XMLHttpRequest"]) {
    Object.defineProperty(g, name, { value: undefined, configurable: false, writable: false });
  }
}

/**
 * Under the permission model process.binding throws; Pyodide's NODEFS reads fs constants through it at
 * start-up. Give it exactly that and nothing else.
 */
export function shimProcessBinding(): void {
  const proc = process as unknown as { binding: (name: string) => unknown };
  proc.binding = (name: string) => {
    if (name === "constants") return { fs: fsConstants };
    throw Object.assign(new Error(`process.binding('${name}') is disabled in the sandbox`), { code: "ERR_ACCESS_DENIED" });
  };
}

/** True when this process runs under Node's permission model without the rights a sandbox must lack. */
export function permissionModelActive(): boolean {
  const perm = (process as unknown as { permission?: { has(scope: string, ref?: string): boolean } }).permission;
  if (!perm) return false;
  return !perm.has("child") && !perm.has("worker") && !perm.has("fs.write");
}

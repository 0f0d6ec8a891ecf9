// Child process hosting Pyodide, started by the pool under Node's permission model. Lock the process
// down first, refuse to serve without the permission model, then load Python and answer requests.
import { lockDownNetwork, permissionModelActive, shimProcessBinding } from "../src/sandbox/lockdown.js";
import { ipcEndpoint, serveSandboxHost } from "../src/sandbox/host.js";
import { PyodideSandbox } from "../src/sandbox/pyodide.js";

if (!permissionModelActive()) throw new Error("pyodide host: refusing to start outside Node's permission model");
lockDownNetwork();
shimProcessBinding();
const sandbox = await PyodideSandbox.create({ sessionMode: process.env.TAORL_SANDBOX_SESSION_MODE === "shared" ? "shared" : "fresh" });
serveSandboxHost(ipcEndpoint(process), { python: sandbox });

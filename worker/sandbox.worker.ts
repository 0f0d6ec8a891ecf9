// Worker thread hosting the QuickJS sandbox: load it, announce readiness, answer every request.
import { parentPort, workerData } from "node:worker_threads";
import { portEndpoint, serveSandboxHost } from "../src/sandbox/host.js";
import { QuickJsSandbox } from "../src/sandbox/quickjs.js";

const sandbox = new QuickJsSandbox({ sessionMode: workerData?.sessionMode });
await sandbox.ready();
serveSandboxHost(portEndpoint(parentPort!), { javascript: sandbox });

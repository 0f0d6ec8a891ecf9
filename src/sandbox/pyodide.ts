// Pyodide sandbox: the only module that imports pyodide. Node-only, and only ever instantiated inside a
// dedicated host process (worker/pyodide.worker.ts) started by the pool under Node's permission model.
// Pyodide alone is not a sandbox: Python reaches JavaScript through `js`, `pyodide_js`, `pyodide.code` and
// the FFI, and Emscripten's `os.system` calls Node's child_process. The bridge is removed here as far as
// Python allows (modules unregistered and import-blocked, process-spawning functions replaced), but Python
// can find live objects through `gc`, so the process boundary is what the guarantees rest on.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { SandboxResult, SandboxStatus } from "../types.js";
import { DEFAULT_SESSION_MODE, resolveLimits } from "./sandbox.js";
import type { RunOptions, Sandbox, SandboxLimits, SessionMode } from "./sandbox.js";

/** Folder of the installed pyodide package (its wasm, stdlib zip and lock file). */
export function pyodidePackageDir(): string {
  return dirname(createRequire(import.meta.url).resolve("pyodide"));
}

/** Python side: hardening, then a runner that executes a block with captured, byte-limited output. */
const RUNNER = String.raw`
import sys, os, builtins, traceback

for _name in ("js", "pyodide_js"):
    sys.modules.pop(_name, None)

_BLOCKED = ("js", "pyodide_js", "pyodide", "_pyodide", "_pyodide_core", "micropip", "pyodide_http")

class _BlockHost:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _BLOCKED:
            raise ImportError(f"module '{name}' is not available in the sandbox")
        return None

sys.meta_path.insert(0, _BlockHost())
for _name in list(sys.modules):
    if _name.split(".")[0] in _BLOCKED:
        del sys.modules[_name]

def _denied(*args, **kwargs):
    raise PermissionError("process creation is not available in the sandbox")

import posix
for _mod in (os, posix):
    for _name in ("system", "popen", "fork", "forkpty", "execv", "execve", "spawnv", "spawnve", "posix_spawn", "posix_spawnp", "kill", "killpg"):
        if hasattr(_mod, _name):
            setattr(_mod, _name, _denied)

# Deep pure-Python recursion is safe up to here; far above it the wasm stack overflows the host's.
_MAX_RECURSION = 20000
_set_recursion = sys.setrecursionlimit
def _clamped_setrecursionlimit(limit):
    _set_recursion(min(int(limit), _MAX_RECURSION))
sys.setrecursionlimit = _clamped_setrecursionlimit

_BASE_BUILTINS = dict(builtins.__dict__)
_BASE_RECURSION = sys.getrecursionlimit()
_SESSIONS = {}
_TRACEBACK_FRAMES = 20

class _Limit(BaseException):
    pass

class _Buffer:
    def __init__(self, limit):
        self.limit, self.used, self.exceeded = limit, 0, False
        self.out, self.err = [], []

    def write(self, parts, text):
        if self.exceeded:
            raise _Limit()
        data = text.encode("utf-8", "surrogatepass")
        if self.used + len(data) > self.limit:
            parts.append(data[: self.limit - self.used].decode("utf-8", "ignore"))
            self.used, self.exceeded = self.limit, True
            raise _Limit()
        self.used += len(data)
        parts.append(text)

class _Stream:
    encoding, errors = "utf-8", "strict"
    def __init__(self, buffer, parts):
        self._buffer, self._parts = buffer, parts
    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._buffer.write(self._parts, text)
        return len(text)
    def writelines(self, lines):
        for line in lines:
            self.write(line)
    def flush(self):
        pass
    def isatty(self):
        return False
    def writable(self):
        return True

def _run(code, prelude, limit, session):
    buf = _Buffer(limit)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Stream(buf, buf.out), _Stream(buf, buf.err)
    status = "ok"
    if session and session in _SESSIONS:
        ns = _SESSIONS[session]
    else:
        ns = {"__name__": "__main__", "__builtins__": builtins}
        if session:
            _SESSIONS[session] = ns
    try:
        if prelude:
            exec(compile(prelude, "<prelude>", "exec"), ns)
        exec(compile(code, "<tool>", "exec"), ns)
    except _Limit:
        status = "output_limit"
    except BaseException as e:
        if buf.exceeded:
            status = "output_limit"
        elif isinstance(e, SystemExit) and e.code in (None, 0):
            status = "ok"
        else:
            status = "oom" if isinstance(e, MemoryError) else "error"
            try:
                tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
                text = "".join(traceback.format_exception(type(e), e, tb, limit=-_TRACEBACK_FRAMES))
            except BaseException:
                text = f"{type(e).__name__}: {e}\n"
            try:
                buf.write(buf.err, text)
            except _Limit:
                status = "output_limit"
    finally:
        sys.stdout, sys.stderr = saved
        if not session:
            builtins.__dict__.clear()
            builtins.__dict__.update(_BASE_BUILTINS)
        _set_recursion(_BASE_RECURSION)
    return status, "".join(buf.out), "".join(buf.err)

def _close(session):
    _SESSIONS.pop(session, None)
`;

interface PyProxyLike {
  (...args: unknown[]): unknown;
  destroy(): void;
}
interface PyodideLike {
  runPython(code: string, options?: { globals?: unknown }): unknown;
  toPy(value: unknown): { get(name: string): unknown; destroy(): void };
  unregisterJsModule(name: string): void;
}

export interface PyodideSandboxOptions {
  sessionMode?: SessionMode;
}

/** Caps the growth of every WebAssembly.Memory in this process; Emscripten turns a refused grow into MemoryError. */
function installMemoryCap(): { setCap(bytes: number): void; refused(): boolean; reset(): void } {
  const proto = WebAssembly.Memory.prototype;
  const grow = proto.grow;
  let cap = Number.POSITIVE_INFINITY;
  let refusedGrow = false;
  proto.grow = function (this: WebAssembly.Memory, deltaPages: number): number {
    if (this.buffer.byteLength + deltaPages * 65536 > cap) {
      refusedGrow = true;
      throw new RangeError("sandbox memory limit");
    }
    return grow.call(this, deltaPages);
  };
  return { setCap: (b) => { cap = b; }, refused: () => refusedGrow, reset: () => { refusedGrow = false; } };
}

export class PyodideSandbox implements Sandbox {
  readonly language = "python" as const;
  private fatal = false;

  private constructor(
    private readonly runner: PyProxyLike,
    private readonly closer: PyProxyLike,
    private readonly memory: ReturnType<typeof installMemoryCap>,
    private readonly baseHeapBytes: number,
    readonly sessionMode: SessionMode,
  ) {}

  static async create(options: PyodideSandboxOptions = {}): Promise<PyodideSandbox> {
    const memory = installMemoryCap();
    const { loadPyodide } = await import("pyodide");
    const py = (await loadPyodide({ jsglobals: {}, env: { HOME: "/home/pyodide" }, stdout: () => {}, stderr: () => {} })) as unknown as PyodideLike & { _module: { HEAP8: Int8Array } };
    py.unregisterJsModule("js");
    py.unregisterJsModule("pyodide_js");
    const ns = py.toPy({});
    py.runPython(RUNNER, { globals: ns });
    const runner = ns.get("_run") as PyProxyLike;
    const closer = ns.get("_close") as PyProxyLike;
    ns.destroy();
    return new PyodideSandbox(runner, closer, memory, py._module.HEAP8.length, options.sessionMode ?? DEFAULT_SESSION_MODE);
  }

  /** After a fatal Pyodide error the interpreter is unusable: the host must be replaced. */
  shouldRetire(): boolean {
    return this.fatal;
  }

  async run(code: string, limits?: Partial<SandboxLimits>, options: RunOptions = {}): Promise<SandboxResult> {
    const t0 = performance.now();
    const lim = resolveLimits(limits);
    if (this.fatal) return { status: "error", stdout: "", stderr: "SandboxError: the Python runtime failed earlier and must be replaced\n", elapsedMs: 0 };
    // "" = no session (a JS null would reach Python as jsnull, not None).
    const session = this.sessionMode === "shared" && options.session ? options.session : "";
    this.memory.reset();
    this.memory.setCap(this.baseHeapBytes + lim.memoryBytes);
    try {
      const tuple = this.runner(code, options.prelude ?? "", lim.outputBytes, session) as { toJs(): unknown[]; destroy(): void };
      const [status, stdout, stderr] = tuple.toJs() as [SandboxStatus, string, string];
      tuple.destroy();
      const final: SandboxStatus = status === "error" && this.memory.refused() ? "oom" : status;
      // After the heap hit its cap, what is left of it is unknown: replace the interpreter.
      if (this.memory.refused()) this.fatal = true;
      return { status: final, stdout, stderr, elapsedMs: performance.now() - t0 };
    } catch (e) {
      // An error that escaped the runner is Pyodide's own (a fatal error, a host stack overflow).
      this.fatal = true;
      const message = (e as Error)?.message?.split("\n")[0] ?? String(e);
      const status: SandboxStatus = this.memory.refused() ? "oom" : "error";
      return { status, stdout: "", stderr: `SandboxError: the Python runtime failed: ${message}\n`, elapsedMs: performance.now() - t0 };
    } finally {
      this.memory.setCap(Number.POSITIVE_INFINITY);
    }
  }

  async closeSession(session: string): Promise<void> {
    if (!this.fatal) this.closer(session);
  }

  async close(): Promise<void> {
    // The host process owns the interpreter; it ends with the process.
  }
}

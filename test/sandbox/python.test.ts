// Python on Pyodide in permission-model child processes: the conformance suite, the hostile suite, and
// 1000 mixed calls from 8 concurrent callers. One pool for the file (a cold Pyodide costs ~2 s).
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SandboxStatus } from "../../src/types.js";
import { SandboxPool } from "../../src/sandbox/pool.js";
import { sandboxConformance } from "./conformance.js";

const pool = new SandboxPool({ javascriptWorkers: 1, pythonWorkers: 1, pythonSpares: 1, pythonStart: "eager" });
beforeAll(() => pool.warm("python"), 60_000);
afterAll(() => pool.close());

sandboxConformance("Pyodide pool", "python", () => pool.sandbox("python"));

const limits = { timeoutMs: 500, memoryBytes: 64 * 1024 * 1024, outputBytes: 4096 };
const lastLine = (s: string) => s.trim().split("\n").pop();
const probe = join(tmpdir(), `taorl-escape-probe-${process.pid}`);

interface Case { name: string; code: string; status: SandboxStatus; stdout?: string; last?: string | RegExp }

const cases: Case[] = [
  // runaways
  { name: "while True", code: "while True:\n    pass", status: "timeout" },
  { name: "huge integer power", code: "x = 10 ** 10 ** 9", status: "timeout" },
  { name: "time.sleep past the deadline", code: "import time\ntime.sleep(30)", status: "timeout" },
  { name: "loop that swallows KeyboardInterrupt", code: "while True:\n    try:\n        pass\n    except BaseException:\n        pass", status: "timeout" },
  // memory
  { name: "one huge bytearray", code: "b = bytearray(1 << 30)", status: "oom", last: "MemoryError" },
  { name: "growing list of buffers", code: "a = []\nwhile True:\n    a.append(bytearray(1 << 20))", status: "oom", last: "MemoryError" },
  { name: "string repetition bomb", code: "s = 'x' * (10 ** 9)", status: "oom", last: "MemoryError" },
  { name: "MemoryError caught and ignored, then printing", code: "try:\n    b = bytearray(1 << 30)\nexcept MemoryError:\n    print('survived')", status: "ok", stdout: "survived\n" },
  // recursion
  { name: "plain deep recursion", code: "def f(n):\n    return f(n + 1)\nf(0)", status: "error", last: "RecursionError: maximum recursion depth exceeded" },
  { name: "sys.setrecursionlimit abuse", code: "import sys\nsys.setrecursionlimit(10 ** 9)\ndef f(n):\n    return f(n + 1)\nf(0)", status: "error", last: "RecursionError: maximum recursion depth exceeded" },
  { name: "deeply nested JSON", code: "import json\njson.loads('[' * 100000 + ']' * 100000)", status: "error", last: "SandboxError: the Python runtime failed: Maximum call stack size exceeded" },
  // output
  { name: "print flood", code: "while True:\n    print('spam')", status: "output_limit" },
  { name: "one huge print", code: "print('x' * 10 ** 6)", status: "output_limit", stdout: "x".repeat(4096) },
  { name: "stderr flood", code: "import sys\nwhile True:\n    sys.stderr.write('spam\\n')", status: "output_limit" },
  { name: "print flood that catches the limit", code: "while True:\n    try:\n        print('x' * 100)\n    except BaseException:\n        pass", status: "timeout" },
  // the JavaScript bridge
  { name: "import js", code: "import js", status: "error", last: "ImportError: module 'js' is not available in the sandbox" },
  { name: "import pyodide_js", code: "import pyodide_js", status: "error", last: "ImportError: module 'pyodide_js' is not available in the sandbox" },
  { name: "pyodide.code.run_js", code: "from pyodide.code import run_js\nrun_js('process.exit(1)')", status: "error", last: "ImportError: module 'pyodide' is not available in the sandbox" },
  { name: "pyodide.ffi", code: "import pyodide.ffi", status: "error", last: "ImportError: module 'pyodide' is not available in the sandbox" },
  { name: "_pyodide_core", code: "import _pyodide_core", status: "error", last: "ImportError: module '_pyodide_core' is not available in the sandbox" },
  { name: "__import__ and importlib", code: "import importlib\nimportlib.import_module('js')", status: "error", last: "ImportError: module 'js' is not available in the sandbox" },
  { name: "micropip", code: "import micropip", status: "error", last: "ImportError: module 'micropip' is not available in the sandbox" },
  { name: "hunting JsProxy objects through gc", code: [
    "import gc",
    "found = 0",
    "for o in gc.get_objects():",
    "    if 'JsProxy' in type(o).__name__:",
    "        for name in ('process', 'require', 'fetch', 'eval', 'Function'):",
    "            try:",
    "                if getattr(o, name, None) is not None:",
    "                    found += 1",
    "            except Exception:",
    "                pass",
    "print('reachable host names:', found)",
  ].join("\n"), status: "ok", stdout: "reachable host names: 0\n" },
  { name: "ctypes call into emscripten_run_script", code: "import ctypes\nctypes.CDLL(None).emscripten_run_script(b'process.exit(3)')", status: "error", last: /^SandboxError: the Python runtime failed: Code generation from strings disallowed/ },
  { name: "ctypes call into libc system", code: "import ctypes\nctypes.CDLL(None).system(b'touch " + probe + "')", status: "error" },
  // processes
  { name: "os.system", code: "import os\nos.system('touch " + probe + "')", status: "error", last: "PermissionError: process creation is not available in the sandbox" },
  { name: "os.popen", code: "import os\nos.popen('id').read()", status: "error", last: "PermissionError: process creation is not available in the sandbox" },
  { name: "posix.system behind os", code: "import posix\nposix.system('id')", status: "error", last: "PermissionError: process creation is not available in the sandbox" },
  { name: "subprocess.run", code: "import subprocess\nsubprocess.run(['id'])", status: "error", last: /^OSError: / },
  { name: "os.fork", code: "import os\nos.fork()", status: "error", last: "PermissionError: process creation is not available in the sandbox" },
  { name: "threading", code: "import threading\nt = threading.Thread(target=print, args=('x',))\nt.start()", status: "error", last: /^RuntimeError: / },
  { name: "multiprocessing", code: "import multiprocessing\np = multiprocessing.Process(target=print)\np.start()", status: "error" },
  // files and network
  { name: "reading /etc/passwd", code: "print(open('/etc/passwd').read())", status: "error", last: "FileNotFoundError: [Errno 44] No such file or directory: '/etc/passwd'" },
  { name: "host files are not mounted", code: "import os\nprint(os.path.exists('/etc/passwd'), os.path.exists('/proc/self/environ'))", status: "ok", stdout: "False False\n" },
  { name: "writing a file stays in the in-memory filesystem", code: "open('" + probe + "', 'w').write('escaped')\nprint('written')", status: "ok", stdout: "written\n" },
  { name: "TCP socket", code: "import socket\ns = socket.socket()\ns.connect(('127.0.0.1', 80))", status: "error", last: /^OSError: / },
  { name: "DNS lookup answers Emscripten's placeholder, not the network", code: "import socket\nprint(socket.gethostbyname('example.com'))", status: "ok", stdout: "172.29.1.0\n" },
  { name: "urllib", code: "import urllib.request\nurllib.request.urlopen('http://127.0.0.1/')", status: "error", last: /^urllib\.error\.URLError: / },
  { name: "asyncio open_connection", code: "import asyncio\nasyncio.run(asyncio.open_connection('127.0.0.1', 80))", status: "error" },
  // interpreter state
  { name: "builtins replaced", code: "import builtins\nbuiltins.print = None\nbuiltins.len = None", status: "ok", stdout: "" },
  { name: "sys.stdout replaced", code: "import sys\nsys.stdout = None\nprint('lost')", status: "ok", stdout: "" },
  { name: "recursion limit lowered", code: "import sys\nsys.setrecursionlimit(50)", status: "ok" },
  { name: "sys.exit(3)", code: "import sys\nsys.exit(3)", status: "error", last: "SystemExit: 3" },
  { name: "sys.exit(0) is a normal end", code: "import sys\nprint('bye')\nsys.exit(0)", status: "ok", stdout: "bye\n" },
  { name: "raise KeyboardInterrupt", code: "raise KeyboardInterrupt", status: "error", last: "KeyboardInterrupt" },
  { name: "os._exit", code: "import os\nos._exit(1)", status: "error" },
];

describe("hostile Python", () => {
  it("has at least 40 cases", () => expect(cases.length).toBeGreaterThanOrEqual(40));

  for (const c of cases) {
    it(c.name, async () => {
      const r = await pool.run({ language: "python", code: c.code, limits });
      expect(r.status).toBe(c.status);
      if (c.stdout !== undefined) expect(r.stdout).toBe(c.stdout);
      if (typeof c.last === "string") expect(lastLine(r.stderr)).toBe(c.last);
      else if (c.last) expect(lastLine(r.stderr)).toMatch(c.last);
      const next = await pool.run({ language: "python", code: "import sys\nprint(len([1]), sys.getrecursionlimit())" });
      expect(next).toMatchObject({ status: "ok", stdout: "1 1000\n", stderr: "" });
    }, 30_000);
  }

  it("nothing reached this machine's filesystem", () => {
    expect(existsSync(probe)).toBe(false);
    expect(readFileSync("/dev/null", "utf8")).toBe("");
  });
});

describe("Python through the pool", () => {
  it("1000 calls (half Python, half JavaScript) from 8 concurrent callers all return the right output", async () => {
    const callers = Array.from({ length: 8 }, async (_, c) => {
      const outs: string[] = [];
      for (let i = 0; i < 125; i++) {
        const language = i % 2 === 0 ? "python" : "javascript";
        outs.push((await pool.run({ language, code: `print(${c} * 1000 + ${i})` })).stdout);
      }
      return outs;
    });
    const all = await Promise.all(callers);
    all.forEach((outs, c) => expect(outs).toEqual(Array.from({ length: 125 }, (_, i) => `${c * 1000 + i}\n`)));
  }, 60_000);

  it("shared sessions keep Python variables between blocks", async () => {
    const sp = new SandboxPool({ javascriptWorkers: 1, pythonSpares: 0, sessionMode: "shared" });
    try {
      expect((await sp.run({ language: "python", code: "n = 41", session: "t" })).status).toBe("ok");
      expect((await sp.run({ language: "python", code: "n += 1\nprint(n)", session: "t" })).stdout).toBe("42\n");
      expect((await sp.run({ language: "python", code: "print('n' in globals())", session: "u" })).stdout).toBe("False\n");
    } finally {
      await sp.close();
    }
  }, 60_000);
});

// Hostile programs shared by the sandbox suites (test/sandbox/hostile-js.test.ts, python.test.ts) and the
// same programs sent through the HTTP API (test/server/hostile-http.test.ts): one list, several doors.
import type { SandboxStatus } from "../../src/types.js";

export interface HostileJavaScript { name: string; code: string; status: SandboxStatus; stdout?: string; stderr?: string | RegExp; timeoutMs?: number }
export interface HostilePython { name: string; code: string; status: SandboxStatus; stdout?: string; last?: string | RegExp }

/** Limits the JavaScript cases' statuses assume (a case's own timeoutMs wins). */
export const hostileJavaScriptLimits = { timeoutMs: 300, memoryBytes: 32 * 1024 * 1024, outputBytes: 4096 };
/** Limits the Python cases' statuses assume. */
export const hostilePythonLimits = { timeoutMs: 500, memoryBytes: 64 * 1024 * 1024, outputBytes: 4096 };

export const hostileJavaScript: HostileJavaScript[] = [
  // runaways
  { name: "while (true)", code: "while (true) {}", status: "timeout" },
  { name: "for (;;) with work", code: "let i = 0; for (;;) i++", status: "timeout" },
  { name: "loop inside try/catch", code: "try { while (true) {} } catch (e) { print('caught') }", status: "timeout", stdout: "" },
  { name: "loop inside finally", code: "try { throw 1 } finally { while (true) {} }", status: "timeout" },
  { name: "endless promise chain", code: "function f() { Promise.resolve().then(f) } f()", status: "timeout" },
  { name: "async function that never yields", code: "(async () => { while (true) {} })()", status: "timeout" },
  { name: "infinite generator spread", code: "[...(function* () { while (true) yield 1 })()]", status: "oom", timeoutMs: 3000 },
  { name: "catastrophic regex backtracking", code: "/(a+)+$/.test('a'.repeat(32) + 'b')", status: "timeout" },
  { name: "Date.now replaced to dodge the deadline", code: "Date.now = () => 0; while (true) {}", status: "timeout" },
  { name: "slow builtin that never polls the interrupt", code: "Array(1e9).join('x')", status: "timeout" },
  { name: "getter that loops while the error is read", code: "throw { get message() { while (true) {} } }", status: "timeout" },
  // memory
  { name: "one huge string", code: "'x'.repeat(2 ** 27)", status: "oom", stderr: "InternalError: out of memory\n" },
  { name: "huge dense array", code: "new Array(2 ** 32 - 1).fill(0)", status: "oom" },
  { name: "object with endless keys", code: "const o = {}; for (let i = 0; ; i++) o['k' + i] = i", status: "oom", timeoutMs: 3000 },
  { name: "string doubling", code: "let s = 'x'; while (true) s += s", status: "error", stderr: "InternalError: string too long\n" },
  // stack
  { name: "deep recursion", code: "function f() { return f() + 1 } f()", status: "error", stderr: "InternalError: stack overflow\n" },
  { name: "mutual recursion", code: "const a = () => b(); const b = () => a(); a()", status: "error", stderr: "InternalError: stack overflow\n" },
  { name: "proxy get trap recursion", code: "const p = new Proxy({}, { get: (t, k) => p[k] }); p.x", status: "error", stderr: "InternalError: stack overflow\n" },
  { name: "deeply nested JSON", code: "JSON.parse('['.repeat(1e5))", status: "error" },
  { name: "toString recursion while printing", code: "const o = { toString() { return String(this) } }; print(String(o))", status: "error", stderr: "InternalError: stack overflow\n" },
  // output
  { name: "print flood", code: "for (;;) print('spam')", status: "output_limit" },
  { name: "one huge print", code: "print('x'.repeat(1e6))", status: "output_limit", stdout: "x".repeat(4096) },
  { name: "stderr flood", code: "for (;;) console.error('spam')", status: "output_limit" },
  { name: "huge error message", code: "throw new Error('x'.repeat(1e5))", status: "output_limit", stderr: "Error: " + "x".repeat(4089) },
  { name: "print flood that catches its own interruption", code: "for (;;) { try { for (;;) print('x') } catch (e) {} }", status: "output_limit" },
  // host access
  { name: "process", code: "print(typeof process); process.exit(1)", status: "error", stdout: "undefined\n", stderr: "ReferenceError: 'process' is not defined\n" },
  { name: "require", code: "require('fs')", status: "error", stderr: "ReferenceError: 'require' is not defined\n" },
  { name: "fetch", code: "fetch('http://127.0.0.1/')", status: "error", stderr: "ReferenceError: 'fetch' is not defined\n" },
  { name: "dynamic import", code: "import('node:fs').then(() => print('loaded'), (e) => print('refused: ' + e.message))", status: "ok", stdout: "refused: could not load module 'node:fs'\n" },
  { name: "static import", code: "import fs from 'fs'", status: "error", stderr: /^(SyntaxError|ReferenceError): / },
  { name: "host eval through the Function constructor", code: "print(typeof this.constructor.constructor('return this')().process)", status: "ok", stdout: "undefined\n" },
  { name: "new Function reaching for process", code: "new Function('return process')()", status: "error", stderr: "ReferenceError: 'process' is not defined\n" },
  { name: "indirect eval of require", code: "print((0, eval)('typeof require'))", status: "ok", stdout: "undefined\n" },
  { name: "WebAssembly", code: "new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))", status: "error", stderr: "ReferenceError: 'WebAssembly' is not defined\n" },
  { name: "SharedArrayBuffer", code: "new SharedArrayBuffer(8)", status: "error", stderr: "ReferenceError: 'SharedArrayBuffer' is not defined\n" },
  { name: "Atomics.wait", code: "Atomics.wait(new Int32Array(8), 0, 0)", status: "error", stderr: "ReferenceError: 'Atomics' is not defined\n" },
  { name: "timers", code: "print([typeof setTimeout, typeof setInterval, typeof setImmediate, typeof queueMicrotask].join())", status: "ok", stdout: "undefined,undefined,undefined,undefined\n" },
  { name: "QuickJS std/os modules", code: "print(typeof std, typeof os, typeof scriptArgs)", status: "ok", stdout: "undefined undefined undefined\n" },
  { name: "module loader", code: "import('std').catch((e) => print(e.message))", status: "ok", stdout: "could not load module 'std'\n" },
  { name: "globalThis has only guest objects", code: "const host = ['process', 'require', 'Buffer', 'fetch', 'module', 'exports', 'global', 'setTimeout', 'WebAssembly', 'SharedArrayBuffer', 'Atomics', 'std', 'os']; print(Object.getOwnPropertyNames(globalThis).filter((k) => host.includes(k)).length)", status: "ok", stdout: "0\n" },
  // pollution
  { name: "Object.prototype pollution", code: "Object.prototype.polluted = 'yes'; print({}.polluted)", status: "ok", stdout: "yes\n" },
  { name: "__proto__ through JSON", code: "const o = JSON.parse('{\"__proto__\": {\"polluted\": 1}}'); print(({}).polluted === undefined)", status: "ok", stdout: "true\n" },
  { name: "Array.prototype.push replaced", code: "Array.prototype.push = () => { throw new Error('hijacked') }; print('set')", status: "ok", stdout: "set\n" },
  { name: "print and console replaced", code: "print = null; console.log = null; console.error('still here')", status: "ok", stderr: "still here\n" },
  { name: "host writer called with odd arguments", code: "const w = Object.getOwnPropertyNames(globalThis); print(w.includes('write'))", status: "ok", stdout: "false\n" },
  { name: "throwing a non-Error object", code: "throw { toString() { return 'sneaky' } }", status: "error" },
  { name: "Symbol.toPrimitive that throws inside print", code: "print({ [Symbol.toPrimitive]() { throw new Error('no') }, toJSON() { throw new Error('no') } })", status: "error", stderr: "Error: no\n" },
];

/** `probe`: a host path the cases try to create; it must not exist afterwards. */
export function hostilePython(probe: string): HostilePython[] {
  return [
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
}

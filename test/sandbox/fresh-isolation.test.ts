// Fresh calls share nothing: a call that mutates globals, intrinsics' prototypes or the output functions,
// or leaves work for the garbage collector (FinalizationRegistry callbacks), cannot be seen by a later
// fresh call, in process and through a worker (where the next call's context is prepared ahead of time).
import { afterAll, describe, expect, it } from "vitest";
import { SandboxPool } from "../../src/sandbox/pool.js";
import { QuickJsSandbox } from "../../src/sandbox/quickjs.js";
import type { Sandbox } from "../../src/sandbox/sandbox.js";

/** Mutations a hostile call makes, each against something a later call would see if state were shared. */
const MUTATE = `
  print("mutating");
  globalThis.leaked = 1;
  var declared = 2;
  Object.prototype.polluted = 3;
  Array.prototype.push = function () { return -1 };
  delete Array.prototype.map;
  String.prototype.toString = () => "hijacked";
  Number.prototype.toString = () => "hijacked";
  Error.prototype.name = "Hijacked";
  JSON.stringify = () => "hijacked";
  Math.random = () => 4;
  Function.prototype.call = () => "hijacked";
  Object.freeze(Array.prototype);
  Object.defineProperty(globalThis, "Object", { value: null });
  print = () => {};
  console.log = () => {};
`;

/** Prints the names of every check that fails; a pristine context prints "pristine". */
const CHECK = `
  const bad = [];
  const check = (name, ok) => { if (!ok) bad.push(name) };
  check("global", typeof leaked === "undefined" && typeof declared === "undefined");
  check("Object.prototype", !("polluted" in {}));
  check("Array.prototype.push", [].push(1) === 1);
  check("Array.prototype.map", typeof [].map === "function");
  check("Array.prototype not frozen", !Object.isFrozen(Array.prototype));
  check("String.prototype.toString", "a".toString() === "a");
  check("Number.prototype.toString", (5).toString() === "5");
  check("Error.prototype.name", new Error("x").name === "Error");
  check("JSON.stringify", JSON.stringify([1]) === "[1]");
  check("Math.random", Math.random() < 1);
  check("Function.prototype.call", ((x) => x).call(null, 7) === 7);
  check("Object", typeof Object === "function");
  check("console.log is print", console.log === print);
  print(bad.length ? bad.join(", ") : "pristine");
`;

/** Finalizers that would run guest code of a finished call inside a later one, if both shared a runtime. */
const FINALIZERS = `
  globalThis.registry = new FinalizationRegistry((held) => { print("finalizer " + held); while (true) {} });
  for (let i = 0; i < 1000; i++) registry.register({ i }, i);
  print("registered");
`;
const CHURN = `let a = []; for (let i = 0; i < 20000; i++) a.push({ i }); a = null; print("churned")`;

function isolationSuite(name: string, get: () => Sandbox): void {
  describe(`fresh calls share nothing: ${name}`, () => {
    it("globals, intrinsics' prototypes and the output functions are pristine in the next call", async () => {
      const before = await get().run(CHECK);
      expect(before).toMatchObject({ status: "ok", stdout: "pristine\n" });
      expect(await get().run(MUTATE)).toMatchObject({ status: "ok", stdout: "mutating\n" });
      for (let i = 0; i < 3; i++) expect(await get().run(CHECK)).toMatchObject({ status: "ok", stdout: "pristine\n", stderr: "" });
    });

    it("a finished call's FinalizationRegistry callbacks never run in a later call", async () => {
      expect(await get().run(FINALIZERS)).toMatchObject({ status: "ok", stdout: "registered\n" });
      for (let i = 0; i < 5; i++) {
        expect(await get().run(CHURN, { timeoutMs: 2000 })).toMatchObject({ status: "ok", stdout: "churned\n", stderr: "" });
      }
    });

    it("print formats like String() in the guest, for every kind of value", async () => {
      const values = "['s', 0, -0, 1.5, 1e21, 1e-7, 2 ** 53 + 2, 0.1 + 0.2, -1 / 3, NaN, -Infinity, undefined, null, true, 10n, Symbol('y'), [1, 'a'], { k: 1 }, new Error('e'), () => 1, new String('w')]";
      const r = await get().run(`const vs = ${values}; for (const v of vs) print(v); print(...vs)`);
      const expected = await get().run(`
        const vs = ${values};
        const fmt = (v) => typeof v === "string" ? v : v instanceof Error ? v.name + ": " + v.message
          : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
        print(vs.map(fmt).join("\\n") + "\\n" + vs.map(fmt).join(" "))`);
      expect(r.status).toBe("ok");
      expect(r.stdout).toBe(expected.stdout);
    });

    it("a formatting error thrown by a guest value reaches the guest, as before", async () => {
      const r = await get().run(`try { print(1, { toJSON() { throw 1 }, [Symbol.toPrimitive]() { throw new TypeError("no") } }) } catch (e) { print("caught " + e.name) }`);
      expect(r).toMatchObject({ status: "ok", stdout: "caught TypeError\n" });
    });
  });
}

const inProcess = new QuickJsSandbox();
const pool = new SandboxPool({ javascriptWorkers: 1, pythonStart: "lazy" });
afterAll(async () => { await inProcess.close(); await pool.close(); });

isolationSuite("in process", () => inProcess);
isolationSuite("through a worker", () => pool.sandbox("javascript"));

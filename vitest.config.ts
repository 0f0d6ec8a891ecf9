import { defineConfig } from "vitest/config";

// vitest 5 targets Node ≥ 22 and its reporter calls Map.groupBy (Node 21+) when printing failures; on
// Node 20 that crash hides the failure. Define it here, in the main process, before any report.
const withGroupBy = Map as unknown as { groupBy?: unknown };
if (typeof withGroupBy.groupBy !== "function") {
  withGroupBy.groupBy = <K, V>(items: Iterable<V>, key: (v: V, i: number) => K): Map<K, V[]> => {
    const m = new Map<K, V[]>();
    let i = 0;
    for (const v of items) {
      const k = key(v, i++);
      const list = m.get(k);
      if (list) list.push(v); else m.set(k, [v]);
    }
    return m;
  };
}
const withObjectGroupBy = Object as unknown as { groupBy?: unknown };
if (typeof withObjectGroupBy.groupBy !== "function") {
  withObjectGroupBy.groupBy = <V>(items: Iterable<V>, key: (v: V, i: number) => PropertyKey) => {
    const o: Record<PropertyKey, V[]> = Object.create(null);
    let i = 0;
    for (const v of items) (o[key(v, i++)] ??= []).push(v);
    return o;
  };
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["test/global-setup.ts"],
  },
});

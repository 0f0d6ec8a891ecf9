// A small argv parser: `--name value`, `--name=value` and boolean `--flag`; unknown options are errors.

export class UsageError extends Error {
  override name = "UsageError";
}

export interface ArgSpec {
  /** Options that take a value. */
  values: readonly string[];
  /** Boolean flags. */
  flags: readonly string[];
}

export function parseArgs(argv: readonly string[], spec: ArgSpec): { opts: Record<string, string>; flags: Set<string>; rest: string[] } {
  const opts: Record<string, string> = {};
  const flags = new Set<string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) { rest.push(a); continue; }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (spec.flags.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
    } else if (spec.values.includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || v === "") throw new UsageError(`--${name} needs a value`);
      opts[name] = v;
    } else {
      const known = [...spec.values, ...spec.flags].map((n) => `--${n}`).join(", ");
      throw new UsageError(`unknown option --${name}${known ? ` (known: ${known})` : ""}`);
    }
  }
  return { opts, flags, rest };
}

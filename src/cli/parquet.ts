// The one module that imports hyparquet-writer: verl's RL dataset rows as a parquet file with real
// nested columns (verl's RLHFDataset reads `prompt` as a list of {role, content} messages).
import { writeFileSync } from "node:fs";
import { parquetWriteBuffer } from "hyparquet-writer";

/** One row of verl's dataset schema (verl/utils/dataset/rl_dataset.py at the pin in gpu/VERL_PIN). */
export interface VerlRow {
  data_source: string;
  prompt: Array<{ role: string; content: string }>;
  ability: string;
  reward_model: { style: "rule"; ground_truth: string };
  /** Which registered verl agent loop runs the row (gpu/taorl_verl/verl_plugin/agent_loop.py). */
  agent_name: string;
  extra_info: {
    split: string;
    index: number;
    id: string;
    question: string;
    /** Python run before every code block of this problem (the task family's `q = [...]`), else "". */
    tool_prelude: string;
    /** taorl's answer-check options (null: default); read by reward.py's compute_score. */
    check: { relTol: number | null; unordered: boolean | null; sigFigs: boolean | null; absTol: number | null };
  };
}

const str = (name: string) => ({ name, type: "BYTE_ARRAY" as const, converted_type: "UTF8" as const, repetition_type: "OPTIONAL" as const });
const num = (name: string, type: "DOUBLE" | "INT64" | "BOOLEAN") => ({ name, type, repetition_type: "OPTIONAL" as const });
const group = (name: string, num_children: number) => ({ name, repetition_type: "OPTIONAL" as const, num_children });

// parquet's schema is the depth-first list of elements; a LIST is group → repeated "list" → "element"
const SCHEMA = [
  { name: "root", num_children: 6 },
  str("data_source"),
  { ...group("prompt", 1), converted_type: "LIST" as const },
  { name: "list", repetition_type: "REPEATED" as const, num_children: 1 },
  group("element", 2), str("role"), str("content"),
  str("ability"),
  group("reward_model", 2), str("style"), str("ground_truth"),
  str("agent_name"),
  group("extra_info", 6), str("split"), num("index", "INT64"), str("id"), str("question"), str("tool_prelude"),
  group("check", 4), num("relTol", "DOUBLE"), num("unordered", "BOOLEAN"), num("sigFigs", "BOOLEAN"), num("absTol", "DOUBLE"),
];

/** Writes rows to `file` as parquet (snappy), nested columns as parquet groups and lists. */
export function writeVerlParquet(file: string, rows: readonly VerlRow[]): void {
  const col = <K extends keyof VerlRow>(name: K) => ({ name, data: rows.map((r) => (name === "extra_info" ? { ...r.extra_info, index: BigInt(r.extra_info.index) } : r[name])) });
  const buf = parquetWriteBuffer({
    schema: SCHEMA,
    columnData: [col("data_source"), col("prompt"), col("ability"), col("reward_model"), col("agent_name"), col("extra_info")],
    createdBy: "taorl export verl",
  });
  writeFileSync(file, new Uint8Array(buf));
}

// The `taorl` command: parse, delegate, print. Exit codes: 0 ok, 2 bad input or usage, 1 internal error.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RecordError } from "../trajectories.js";
import { ShapeError } from "../rl/index.js";
import { UsageError } from "./args.js";
import { SHAPE_USAGE, runShape } from "./shape.js";
import { SERVE_USAGE, runServe } from "./serve.js";
import { TRAIN_USAGE, runTrain } from "./train.js";
import { REPORT_USAGE, runReport } from "./report.js";
import { ABLATION_USAGE, runAblation } from "./ablation.js";
import { runStart } from "./start.js";
import { PRETRAIN_USAGE, runPretrain } from "./pretrain.js";
import { SCORE_USAGE, runScore } from "./score.js";
import { GENERATE_USAGE, runGenerate } from "./generate.js";
import { EVALUATE_USAGE, runEvaluateCli } from "./evaluate.js";
import { EXPORT_ONNX_USAGE, EXPORT_USAGE, runExport, runExportOnnx } from "./export.js";

const USAGE = `taorl: TAO-RL for tool-using LLM policies, in WebAssembly

usage:
  taorl start [--minutes 3]        on-device adaptation demo: evaluate, adapt with tao-rl, evaluate, report
  taorl shape --in F [--out F] [--config F] [--refill] [--seed N]
  taorl serve [--port 8787] [--host 127.0.0.1] [--model DIR] [--jobs DIR]
  taorl train [--model DIR] [--out DIR] [--preset tao-rl] [--seed N] [--steps N] ...
  taorl pretrain [--out models/default] [--seed N] [--steps N]
  taorl generate --model DIR --prompt TEXT [--max-new-tokens 64] [--chat]
  taorl score --model DIR --in tokens.jsonl [--out scores.jsonl]
  taorl evaluate [--model DIR] [--split test|ood | --benchmark NAME] [--problems 32] [--k 4] [--out F]
  taorl report RUN [RUN ...] [--out DIR]
  taorl export verl --out DIR [--task-count N] [--seed S] [--benchmarks all|none|NAMES]
  taorl export onnx --model DIR --out FILE.onnx [--kind score|decode] [--ort-ops]
  taorl ablation [--presets ...] [--seeds 0,1,2] [--steps N]
  taorl help [command]
  taorl --version

${SHAPE_USAGE}

${SERVE_USAGE}

${TRAIN_USAGE}

${REPORT_USAGE}

${ABLATION_USAGE}

${PRETRAIN_USAGE}

${GENERATE_USAGE}

${SCORE_USAGE}

${EVALUATE_USAGE}

${EXPORT_USAGE}

${EXPORT_ONNX_USAGE}`;

/** The package root: two levels above dist/node/cli.mjs, or above src/cli/ when run from source. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("taorl: cannot find the package root (package.json) above the CLI");
}

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

export function main(argv: readonly string[]): number {
  const io = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
  const tio = { ...io, tty: process.stderr.isTTY };
  const [cmd, ...rest] = argv;
  /** An async command: its failure sets the exit code (2 for bad input, 1 otherwise) when it settles. */
  const background = (name: string, work: Promise<unknown>): number => {
    work.catch((e: Error) => {
      io.stderr(`taorl ${name}: ${e instanceof UsageError ? e.message : `${e.stack ?? e.message}`}\n`);
      process.exitCode = e instanceof UsageError ? 2 : 1;
    });
    return 0;
  };
  try {
    switch (cmd) {
      case "shape":
        runShape(rest, io);
        return 0;
      case "start":
        return background(cmd, runStart(rest, tio, packageRoot()));
      case "report":
        runReport(rest, io);
        return 0;
      case "export":
        if (rest[0] === "onnx") return background(cmd, runExportOnnx(rest, io));
        runExport(rest, io);
        return 0;
      case "pretrain":
        return background(cmd, runPretrain(rest, tio, packageRoot()));
      case "ablation":
        return background(cmd, runAblation(rest, tio, packageRoot()));
      case "train":
        return background(cmd, runTrain(rest, tio, packageRoot()));
      case "score":
        return background(cmd, runScore(rest, io));
      case "evaluate":
        return background(cmd, runEvaluateCli(rest, tio, packageRoot()));
      case "generate":
        return background(cmd, runGenerate(rest, io));
      case "serve":
        return background(cmd, runServe(rest, version(), io, packageRoot()));
      case "--version":
      case "-v":
        io.stdout(`${version()}\n`);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.stdout(`${USAGE}\n`);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${cmd}" (try: taorl help)`);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof RecordError || e instanceof ShapeError) {
      io.stderr(`taorl ${cmd ?? ""}: ${e.message}\n`);
      return 2;
    }
    io.stderr(`taorl ${cmd ?? ""}: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));

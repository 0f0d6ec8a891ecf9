// Writes examples/trajectories.jsonl: synthetic multi-turn tool-use rollouts in the `taorl shape` schema
// (8 prompts × 8 rollouts), built from a fixed seed so the file is reproducible. Each trajectory is a
// prompt (mask 0), then turns of policy tokens, with an observation (mask 0) after every code turn; the
// post-tool mask marks the turn that follows a code turn. Entropies are drawn per token, higher right
// after a tool result, as in real rollouts. Usage: node examples/make-sample.mjs
import { writeFileSync } from "node:fs";

let s = 20260603;
const rand = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 4294967296);
const pick = (p) => rand() < p;
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

// per prompt: probability of a correct answer, of a failing tool call, of a void turn, of truncation
const prompts = [
  { p: 1.0, fail: 0.1, void: 0, trunc: 0 },     // all correct: dropped by criterion 2
  { p: 0.0, fail: 0.3, void: 0, trunc: 0 },     // all wrong: dropped by criterion 2
  { p: 0.5, fail: 0.2, void: 0.1, trunc: 0.1 },
  { p: 0.4, fail: 0.6, void: 0, trunc: 0 },     // many all-tools-failed trajectories
  { p: 0.6, fail: 0.1, void: 0.2, trunc: 0 },
  { p: 0.5, fail: 0.2, void: 0, trunc: 0.7 },   // mostly overlong: dropped when < 4 complete
  { p: 0.3, fail: 0.3, void: 0.1, trunc: 0.1 },
  { p: 0.7, fail: 0.2, void: 0, trunc: 0 },
];

const lines = [];
prompts.forEach((q, gi) => {
  for (let k = 0; k < 8; k++) {
    const loss = [], post = [], ent = [];
    const push = (n, mask, g, hi) => {
      for (let i = 0; i < n; i++) {
        loss.push(mask); post.push(g);
        ent.push(mask ? Number(((hi ? 1.2 : 0.5) * -Math.log(1 - rand() * 0.999)).toFixed(4)) : 0);
      }
    };
    push(int(12, 20), 0, 0, false); // prompt
    const truncated = pick(q.trunc);
    const isVoid = !truncated && pick(q.void);
    const turns = truncated ? int(3, 5) : int(1, 3);
    let calls = 0, valid = 0, afterCode = false;
    for (let t = 0; t < turns; t++) {
      const last = t === turns - 1;
      const code = !last || truncated;
      push(int(8, 24), 1, afterCode ? 1 : 0, afterCode);
      if (code) {
        calls++;
        if (!pick(q.fail)) valid++;
        push(int(4, 10), 0, 0, false); // observation
      }
      afterCode = code;
    }
    if (calls > 0 && q.fail >= 0.6 && pick(0.5)) valid = 0;
    const correct = !truncated && !isVoid && pick(q.p);
    lines.push(JSON.stringify({
      group: `prompt-${gi}`, reward: correct ? 1 : 0, loss_mask: loss, post_tool: post, entropy: ent,
      tool_calls: calls, valid_tool_calls: valid, void: isVoid, truncated,
    }));
  }
});
writeFileSync(new URL("./trajectories.jsonl", import.meta.url), lines.join("\n") + "\n");
console.log(`wrote ${lines.length} trajectories to examples/trajectories.jsonl`);

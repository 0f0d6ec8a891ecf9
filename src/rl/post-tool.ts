// The post-tool mask g (TAO-RL.md §1): 1 on every policy token of a turn that directly follows a code turn
// (whether that code ran or failed); 0 on the first turn, on observations and prompt tokens, and on turns
// after a turn without code. `window` = K > 0 keeps only the first K policy tokens of such a turn.
import { ShapeError, checkLength } from "./check.js";

/** Turn kinds as stored in `TurnLayout.kind`. */
export const TurnCode = Object.freeze({ NONE: 0, CODE: 1, ANSWER: 2, VOID: 3 });

export interface TurnLayout {
  B: number;
  T: number;
  /** Max turns per trajectory (row width of `kind`). */
  K: number;
  /** 1 = policy token [B*T]. */
  responseMask: Uint8Array;
  /** Turn index of each token [B*T]: 0-based; -1 for prompt tokens. Observations carry their code turn's index. */
  turnIndex: Int32Array;
  /** Kind of each turn [B*K] (`TurnCode`); turns beyond a trajectory's last are NONE. */
  kind: Uint8Array;
}

export function postToolMask(layout: TurnLayout, window = 0): Uint8Array {
  const { B, T, K } = layout;
  checkLength("TurnLayout.responseMask", layout.responseMask, B * T, "[B*T]");
  checkLength("TurnLayout.turnIndex", layout.turnIndex, B * T, "[B*T]");
  checkLength("TurnLayout.kind", layout.kind, B * K, "[B*K]");
  const g = new Uint8Array(B * T);
  for (let b = 0; b < B; b++) {
    let seenInTurn = 0;
    let turn = -2;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (!layout.responseMask[i]) continue;
      const k = layout.turnIndex[i];
      if (k >= K) throw new ShapeError(`TurnLayout.turnIndex[${i}]: turn ${k} is beyond K=${K}`);
      if (k !== turn) { turn = k; seenInTurn = 0; }
      seenInTurn++;
      if (k >= 1 && layout.kind[b * K + k - 1] === TurnCode.CODE && (window <= 0 || seenInTurn <= window)) g[i] = 1;
    }
  }
  return g;
}

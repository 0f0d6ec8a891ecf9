import { describe, expect, it, afterAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors, writeSafetensors, toFloat32, floatToHalf, halfToFloat, floatToBf16, bf16ToFloat, SafetensorsError } from "../../src/model/safetensors.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/model/checkpoint.js";
import { parseHfConfig, parameterSpecs, type Weights } from "../../src/model/config.js";

const dir = mkdtempSync(join(tmpdir(), "taorl-st-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function roundTripFile(name: string, bytes: Uint8Array): Uint8Array {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return new Uint8Array(readFileSync(p));
}

/** A file with a hand-written header, for the corruption cases. */
function rawFile(header: unknown, dataBytes: number): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

describe("safetensors", () => {
  const values = new Float32Array([0, 1, -2.5, 3.140625, 65504, 1e-3, -1e-7, 1234.5678, 6.1e-5, 2 ** -24]);

  it("round-trips F32 exactly through a real file, with metadata and an aligned header", () => {
    const bytes = roundTripFile("f32.safetensors", writeSafetensors({ "b.weight": { shape: [2, 5], data: values }, "a.bias": { shape: [0], data: new Float32Array(0) } }, { format: "pt" }));
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const f = readSafetensors(bytes);
    expect(f.metadata).toEqual({ format: "pt" });
    expect(f.tensors.get("b.weight")!.shape).toEqual([2, 5]);
    expect(toFloat32(f.tensors.get("b.weight")!)).toEqual(values);
    expect(toFloat32(f.tensors.get("a.bias")!).length).toBe(0);
  });

  it("round-trips F16 and BF16 within their rounding, exactly for representable values", () => {
    for (const dtype of ["F16", "BF16"] as const) {
      const f = readSafetensors(roundTripFile(`${dtype}.safetensors`, writeSafetensors({ x: { shape: [10], data: values, dtype } })));
      const t = f.tensors.get("x")!;
      expect(t.dtype).toBe(dtype);
      const got = toFloat32(t);
      const relTol = dtype === "F16" ? 2 ** -11 : 2 ** -8;
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (dtype === "F16" && Math.abs(v) < 6.2e-5) expect(Math.abs(got[i] - v)).toBeLessThanOrEqual(2 ** -25);
        else expect(Math.abs(got[i] - v)).toBeLessThanOrEqual(Math.abs(v) * relTol);
      }
      expect(got[2]).toBe(-2.5);
      expect(got[3]).toBe(3.140625);
    }
  });

  it("half and bfloat16 conversions round to nearest even and keep specials", () => {
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1); // tie → even
    expect(halfToFloat(floatToHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(halfToFloat(floatToHalf(70000))).toBe(Infinity);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
    expect(halfToFloat(floatToHalf(2 ** -24))).toBe(2 ** -24);
    expect(bf16ToFloat(floatToBf16(1 + 2 ** -8))).toBe(1);
    expect(bf16ToFloat(floatToBf16(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6);
    expect(Number.isNaN(bf16ToFloat(floatToBf16(NaN)))).toBe(true);
    expect(bf16ToFloat(floatToBf16(-Infinity))).toBe(-Infinity);
  });

  it("refuses a truncated file naming the tensor", () => {
    const good = writeSafetensors({ "model.norm.weight": { shape: [4], data: new Float32Array(4) }, "model.embed_tokens.weight": { shape: [4, 4], data: new Float32Array(16) } });
    expect(() => readSafetensors(good.subarray(0, good.length - 3))).toThrow(/"model\.norm\.weight".*truncated/);
    expect(() => readSafetensors(good.subarray(0, 5))).toThrow(SafetensorsError);
  });

  it("refuses a header length beyond the file", () => {
    const f = new Uint8Array(64);
    new DataView(f.buffer).setBigUint64(0, 1000n, true);
    expect(() => readSafetensors(f)).toThrow(/header length 1000 runs past the end/);
  });

  it("refuses overlapping and out-of-bounds offsets, wrong sizes and bad dtypes, naming the tensor", () => {
    expect(() => readSafetensors(rawFile({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, 12)))
      .toThrow(/"b" \[4, 12\) overlaps tensor "a"/);
    expect(() => readSafetensors(rawFile({ big: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, 8))).toThrow(/"big".*run past the end/);
    expect(() => readSafetensors(rawFile({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8))).toThrow(/"w": F32 \[3\] needs 12 bytes/);
    expect(() => readSafetensors(rawFile({ q: { dtype: "I8", shape: [8], data_offsets: [0, 8] } }, 8))).toThrow(/"q": dtype "I8" is not supported/);
    expect(() => readSafetensors(rawFile({ s: { dtype: "F16", shape: [-1], data_offsets: [0, 2] } }, 2))).toThrow(/"s": shape/);
    const junk = rawFile({}, 0);
    junk[8] = 0x7b; junk[9] = 0x22; // '{"' … unterminated
    expect(() => readSafetensors(junk)).toThrow(/not valid UTF-8 JSON/);
  });

  it("a checkpoint folder round-trips: config.json + model.safetensors with HF names, tied head dropped", async () => {
    const config = parseHfConfig({ model_type: "qwen2", hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, vocab_size: 11, tie_word_embeddings: true });
    const weights: Weights = new Map();
    let k = 0;
    for (const s of parameterSpecs(config)) weights.set(s.name, { shape: s.shape, data: Float32Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, () => (k++ % 17) / 8 - 1) });
    const ck = join(dir, "ck");
    await saveCheckpoint(ck, config, weights, { dtype: "BF16" });
    const back = await loadCheckpoint(ck);
    expect(back.config).toEqual(config);
    for (const [name, w] of weights) expect([name, back.weights.get(name)!.data]).toEqual([name, w.data]); // multiples of 1/8: exact in bf16
    expect(back.weights.has("model.layers.0.self_attn.q_proj.bias")).toBe(true);
  });
});

// safetensors read/write over bytes (F32, F16, BF16). Layout: u64 little-endian header length N, N bytes
// of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}, then the
// data; offsets are relative to the data's start. Reading validates everything before touching data:
// header bounds, JSON, dtypes, shapes against byte lengths, offsets inside the file and not overlapping.
// Every error names the tensor it is about.

export type SafeDtype = "F32" | "F16" | "BF16";

export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** The raw little-endian bytes of this tensor (a view into the file). */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, F16: 2, BF16: 2 };
/** Header lengths above this are refused before parsing (the format's own reference limit is 100 MB). */
const MAX_HEADER = 100_000_000;

export function readSafetensors(buf: Uint8Array): SafetensorsFile {
  if (buf.length < 8) throw new SafetensorsError(`safetensors: file is ${buf.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(buf.length - 8)) throw new SafetensorsError(`safetensors: header length ${n} runs past the end of the file (${buf.length} bytes): truncated or not a safetensors file`);
  if (n > BigInt(MAX_HEADER)) throw new SafetensorsError(`safetensors: header length ${n} exceeds ${MAX_HEADER} bytes`);
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(`safetensors: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) throw new SafetensorsError("safetensors: header must be a JSON object");
  const dataStart = 8 + headerLen;
  const dataLen = buf.length - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  const spans: Array<{ name: string; begin: number; end: number }> = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (entry === null || typeof entry !== "object" || Object.values(entry).some((v) => typeof v !== "string")) {
        throw new SafetensorsError(`safetensors: __metadata__ must map strings to strings`);
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (entry === null || typeof entry !== "object") throw new SafetensorsError(`safetensors: tensor "${name}": entry is not an object`);
    const { dtype, shape, data_offsets: offs } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== "string" || !(dtype in BYTES)) {
      throw new SafetensorsError(`safetensors: tensor "${name}": dtype ${JSON.stringify(dtype)} is not supported (F32, F16, BF16)`);
    }
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== "number" || !Number.isInteger(d) || d < 0)) {
      throw new SafetensorsError(`safetensors: tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => typeof o !== "number" || !Number.isSafeInteger(o) || o < 0) || offs[1] < offs[0]) {
      throw new SafetensorsError(`safetensors: tensor "${name}": data_offsets ${JSON.stringify(offs)} are not [begin, end] with 0 ≤ begin ≤ end`);
    }
    const [begin, end] = offs as [number, number];
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const want = numel * BYTES[dtype as SafeDtype];
    if (end - begin !== want) {
      throw new SafetensorsError(`safetensors: tensor "${name}": ${dtype} [${shape.join(", ")}] needs ${want} bytes, data_offsets [${begin}, ${end}] give ${end - begin}`);
    }
    if (end > dataLen) {
      throw new SafetensorsError(`safetensors: tensor "${name}": data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} bytes): truncated file`);
    }
    spans.push({ name, begin, end });
    tensors.set(name, { dtype: dtype as SafeDtype, shape: shape as number[], bytes: buf.subarray(dataStart + begin, dataStart + end) });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let last: { name: string; begin: number; end: number } | null = null; // the non-empty span reaching furthest
  for (const cur of spans) {
    if (cur.end === cur.begin) continue;
    if (last && cur.begin < last.end) {
      throw new SafetensorsError(`safetensors: tensor "${cur.name}" [${cur.begin}, ${cur.end}) overlaps tensor "${last.name}" [${last.begin}, ${last.end})`);
    }
    if (!last || cur.end > last.end) last = cur;
  }
  return { tensors, metadata };
}

// --- float conversions -------------------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float → IEEE half, round to nearest even; overflow → ±Inf. */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const man = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const full = man | 0x800000;
    const shift = 14 - e;
    let h = full >>> shift;
    const rem = full & ((1 << shift) - 1), halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent, up to Inf: correct
  return sign | h;
}

export function bf16ToFloat(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/** float → bfloat16, round to nearest even (NaN stays NaN). */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The tensor's values as float32 (copied; F16 and BF16 widened exactly). */
export function toFloat32(t: SafeTensor): Float32Array {
  const n = t.bytes.length / BYTES[t.dtype];
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  if (t.dtype === "F32") for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  else if (t.dtype === "F16") for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
  else for (let i = 0; i < n; i++) out[i] = bf16ToFloat(dv.getUint16(2 * i, true));
  return out;
}

export interface TensorToWrite {
  shape: number[];
  data: Float32Array;
  /** Stored dtype; default F32. F16/BF16 round to nearest even. */
  dtype?: SafeDtype;
}

/** Serialise tensors (sorted by name) with an 8-byte-aligned header. */
export function writeSafetensors(tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>, metadata: Record<string, string> = {}): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const dtype = t.dtype ?? "F32";
    if (!(dtype in BYTES)) throw new SafetensorsError(`safetensors: tensor "${name}": cannot write dtype ${String(dtype)}`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new SafetensorsError(`safetensors: tensor "${name}": shape [${t.shape.join(", ")}] needs ${numel} values, got ${t.data.length}`);
    const size = numel * BYTES[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - ((8 + hb.length) % 8)) % 8;
  if (pad) hb = enc.encode(json += " ".repeat(pad));
  const out = new Uint8Array(8 + hb.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const [, t] of entries) {
    const dtype = t.dtype ?? "F32";
    const d = t.data;
    if (dtype === "F32") { for (let i = 0; i < d.length; i++, p += 4) dv.setFloat32(p, d[i], true); }
    else if (dtype === "F16") { for (let i = 0; i < d.length; i++, p += 2) dv.setUint16(p, floatToHalf(d[i]), true); }
    else { for (let i = 0; i < d.length; i++, p += 2) dv.setUint16(p, floatToBf16(d[i]), true); }
  }
  return out;
}

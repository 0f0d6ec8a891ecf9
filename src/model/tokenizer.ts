// Tokenizers: every tokenizer is a Hugging Face `tokenizer.json` (+ `tokenizer_config.json`) loaded by
// @huggingface/tokenizers, including this project's closed-vocabulary tokenizer for tiny policies, which is
// generated as such a file (one code path). Chat templates are the tokenizer_config.json Jinja templates,
// rendered with @huggingface/jinja.
import { Tokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";

export class TokenizerError extends Error {
  override name = "TokenizerError";
}

export interface ChatMessage {
  role: string;
  content: string;
}

type Json = Record<string, unknown>;

function tokenString(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
  return null;
}

export class TextTokenizer {
  private readonly tok: Tokenizer;
  private readonly template: Template | null;
  readonly vocabSize: number;
  readonly eosTokenId: number | null;
  readonly bosTokenId: number | null;
  readonly padTokenId: number | null;
  private readonly bosToken: string | null;
  private readonly eosToken: string | null;

  constructor(readonly tokenizerJson: Json, readonly tokenizerConfig: Json = {}) {
    if (!tokenizerJson || typeof tokenizerJson !== "object" || !tokenizerJson.model) {
      throw new TokenizerError(`tokenizer.json: expected an object with a "model" field`);
    }
    try {
      this.tok = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (e) {
      throw new TokenizerError(`tokenizer.json: cannot load (${(e as Error).message})`);
    }
    const vocab = (tokenizerJson.model as Json).vocab;
    let maxId = -1;
    if (vocab && typeof vocab === "object" && !Array.isArray(vocab)) for (const id of Object.values(vocab as Json)) maxId = Math.max(maxId, id as number);
    else if (Array.isArray(vocab)) maxId = vocab.length - 1;
    for (const t of (tokenizerJson.added_tokens as Array<{ id: number }> | undefined) ?? []) maxId = Math.max(maxId, t.id);
    this.vocabSize = maxId + 1;
    this.bosToken = tokenString(tokenizerConfig.bos_token);
    this.eosToken = tokenString(tokenizerConfig.eos_token);
    const pad = tokenString(tokenizerConfig.pad_token);
    this.bosTokenId = this.bosToken === null ? null : this.tok.token_to_id(this.bosToken) ?? null;
    this.eosTokenId = this.eosToken === null ? null : this.tok.token_to_id(this.eosToken) ?? null;
    this.padTokenId = pad === null ? null : this.tok.token_to_id(pad) ?? null;
    const ct = tokenizerConfig.chat_template;
    const source = typeof ct === "string" ? ct : Array.isArray(ct) ? (ct.find((c: Json) => c.name === "default") as Json | undefined)?.template : undefined;
    try {
      this.template = typeof source === "string" ? new Template(source) : null;
    } catch (e) {
      throw new TokenizerError(`tokenizer_config.json: chat_template does not parse (${(e as Error).message})`);
    }
  }

  /** Token ids of `text` (special tokens written in the text are recognised; no BOS/EOS added unless the post-processor does). */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? false }).ids;
  }

  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean } = {}): string {
    return this.tok.decode(Array.from(ids), { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  get hasChatTemplate(): boolean {
    return this.template !== null;
  }

  /** Render the chat template (tokenizer_config.json) for `messages`. */
  applyChatTemplate(messages: ChatMessage[], opts: { addGenerationPrompt?: boolean; extra?: Json } = {}): string {
    if (!this.template) throw new TokenizerError("tokenizer_config.json has no chat_template");
    return this.template.render({
      messages,
      add_generation_prompt: opts.addGenerationPrompt ?? false,
      bos_token: this.bosToken ?? "",
      eos_token: this.eosToken ?? "",
      ...opts.extra,
    });
  }
}

// --- the closed-vocabulary tokenizer -----------------------------------------------------------------------

export interface ClosedVocabSpec {
  /** Single characters; every other character encodes as <unk>. */
  chars: string;
  /** Multi-character tokens (e.g. "```", "print"), built by left-to-right merges; their prefixes join the vocabulary. */
  words?: string[];
  /** Special tokens after the four fixed ones (<pad>, <unk>, <s>, </s>), e.g. chat markers. */
  specials?: string[];
  chatTemplate?: string;
}

/** A ChatML-style template over the closed vocabulary's chat markers. */
export const CLOSED_VOCAB_CHAT_TEMPLATE =
  "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/**
 * tokenizer.json + tokenizer_config.json of a closed-vocabulary tokenizer: BPE over the given characters
 * with merges only for the given words, whitespace isolated, decoded by concatenation.
 */
export function closedVocabTokenizer(spec: ClosedVocabSpec): { tokenizerJson: Json; tokenizerConfig: Json } {
  const specials = ["<pad>", "<unk>", "<s>", "</s>", ...(spec.specials ?? ["<|im_start|>", "<|im_end|>"])];
  const vocab: Record<string, number> = {};
  const add = (t: string) => { if (!(t in vocab)) vocab[t] = Object.keys(vocab).length; };
  specials.forEach(add);
  const chars = [...new Set([...spec.chars])];
  chars.forEach(add);
  const merges: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const w of spec.words ?? []) {
    const cs = [...w];
    if (cs.length < 2) throw new TokenizerError(`closed vocabulary: word ${JSON.stringify(w)} must have at least two characters`);
    if (/\s/.test(w)) throw new TokenizerError(`closed vocabulary: word ${JSON.stringify(w)} contains whitespace (whitespace is always its own token)`);
    for (const c of cs) if (!chars.includes(c)) throw new TokenizerError(`closed vocabulary: word ${JSON.stringify(w)} uses ${JSON.stringify(c)}, which is not in chars`);
    let left = cs[0];
    for (let i = 1; i < cs.length; i++) {
      const key = `${left} ${cs[i]}`;
      if (!seen.has(key)) { seen.add(key); merges.push([left, cs[i]]); }
      left += cs[i];
      add(left);
    }
  }
  const tokenizerJson: Json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map((s) => ({ id: vocab[s], content: s, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: "Split", pattern: { Regex: "\\s" }, behavior: "Isolated", invert: false },
    post_processor: null,
    decoder: { type: "Fuse" },
    model: {
      type: "BPE", dropout: null, unk_token: "<unk>", continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };
  const tokenizerConfig: Json = {
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>", pad_token: "<pad>",
    chat_template: spec.chatTemplate ?? CLOSED_VOCAB_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
  };
  return { tokenizerJson, tokenizerConfig };
}

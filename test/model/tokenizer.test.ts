import { describe, expect, it, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedVocabTokenizer, TextTokenizer, TokenizerError } from "../../src/model/tokenizer.js";
import { loadTokenizer } from "../../src/model/checkpoint.js";

const dir = mkdtempSync(join(tmpdir(), "taorl-tok-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = { chars: "abcdefghijklmnopqrstuvwxyz0123456789()+-*/=:`'\" \n", words: ["```", "print", "def", "return"] };

describe("closed-vocabulary tokenizer (a tokenizer.json loaded by @huggingface/tokenizers)", () => {
  it("round-trips through tokenizer.json files on disk, words as single tokens, whitespace isolated", async () => {
    const { tokenizerJson, tokenizerConfig } = closedVocabTokenizer(spec);
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson));
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(tokenizerConfig));
    const tok = await loadTokenizer(dir);
    const text = "```\nprint(1+2)\n```";
    const ids = tok.encode(text);
    expect(tok.decode(ids)).toBe(text);
    expect(ids.map((i) => tok.idToToken(i))).toEqual(["```", "\n", "print", "(", "1", "+", "2", ")", "\n", "```"]);
    expect(tok.encode("return x")).toEqual([tok.tokenToId("return"), tok.tokenToId(" "), tok.tokenToId("x")]);
    expect(tok.encode("prin")).toEqual([tok.tokenToId("prin")]); // word prefixes are tokens too
    // 4 fixed specials + 2 chat markers + 48 chars + merge products (``, ```, pr, pri, prin, print, de, def, re, ret, retu, retur, return)
    expect(tok.vocabSize).toBe(6 + [...new Set(spec.chars)].length + 13);
    expect([tok.padTokenId, tok.bosTokenId, tok.eosTokenId]).toEqual([0, 2, 3]);
  });

  it("maps unknown characters to <unk> and keeps special tokens whole", () => {
    const { tokenizerJson, tokenizerConfig } = closedVocabTokenizer(spec);
    const tok = new TextTokenizer(tokenizerJson, tokenizerConfig);
    expect(tok.encode("aZb")).toEqual([tok.tokenToId("a"), 1, tok.tokenToId("b")]);
    expect(tok.encode("<|im_start|>a</s>")).toEqual([tok.tokenToId("<|im_start|>"), tok.tokenToId("a"), 3]);
    expect(tok.decode(tok.encode("<|im_start|>a</s>"), { skipSpecialTokens: true })).toBe("a");
  });

  it("renders the chat template with @huggingface/jinja and encodes it", () => {
    const { tokenizerJson, tokenizerConfig } = closedVocabTokenizer(spec);
    const tok = new TextTokenizer(tokenizerJson, tokenizerConfig);
    const text = tok.applyChatTemplate([{ role: "user", content: "1+1=" }], { addGenerationPrompt: true });
    expect(text).toBe("<|im_start|>user\n1+1=<|im_end|>\n<|im_start|>assistant\n");
    const ids = tok.encode(text);
    expect(ids[0]).toBe(tok.tokenToId("<|im_start|>"));
    expect(tok.decode(ids)).toBe(text);
    // A template in the style of published ones: loops, conditionals, a system default, eos_token.
    const custom = new TextTokenizer(tokenizerJson, { ...tokenizerConfig, chat_template:
      "{% if messages[0].role != 'system' %}sys: be brief\n{% endif %}{% for m in messages %}{{ m.role }}: {{ m.content }}{% if not loop.last %}{{ '\\n' }}{% endif %}{% endfor %}{{ eos_token }}" });
    expect(custom.applyChatTemplate([{ role: "user", content: "hi" }, { role: "assistant", content: "yo" }])).toBe("sys: be brief\nuser: hi\nassistant: yo</s>");
    // transformers renders with trim_blocks: a newline right after a block tag is dropped; jinja does the same.
    const trimmed = new TextTokenizer(tokenizerJson, { ...tokenizerConfig, chat_template: "{% for m in messages %}{{ m.content }}{% if true %}\n{% endif %}{% endfor %}" });
    expect(trimmed.applyChatTemplate([{ role: "user", content: "a" }, { role: "user", content: "b" }])).toBe("ab");
  });

  it("refuses bad specs and bad files with clear errors", async () => {
    expect(() => closedVocabTokenizer({ chars: "ab", words: ["abc"] })).toThrow(/"abc" uses "c"/);
    expect(() => closedVocabTokenizer({ chars: "ab ", words: ["a b"] })).toThrow(/whitespace/);
    expect(() => new TextTokenizer({ version: "1.0" })).toThrow(TokenizerError);
    const { tokenizerJson } = closedVocabTokenizer(spec);
    expect(() => new TextTokenizer(tokenizerJson, { chat_template: "{% for %}" })).toThrow(/chat_template does not parse/);
    expect(() => new TextTokenizer(tokenizerJson, {}).applyChatTemplate([])).toThrow(/no chat_template/);
    const bad = mkdtempSync(join(dir, "bad-"));
    writeFileSync(join(bad, "tokenizer.json"), "{ nope");
    await expect(loadTokenizer(bad)).rejects.toThrow(/not valid JSON/);
    await expect(loadTokenizer(join(dir, "missing"))).rejects.toThrow(/not found/);
  });
});

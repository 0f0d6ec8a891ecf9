// The tool-integrated reasoning (TIR) text format (TAO-RL.md §1), shared by rollouts, the SFT traces that
// pretrain the embedded policy, and evaluation. Plain text with two role markers, so a closed-vocabulary
// tokenizer covers it; a chat-template tokenizer renders the same two messages with its own template.

export const USER = "<|im_start|>user\n";
export const ASSISTANT = "<|im_start|>assistant\n";
export const END = "<|im_end|>";

/** The instruction appended to every question (TAO-RL.md §1). */
export const TOOL_INSTRUCTION =
  "Write Python in a ```python block and print() what you need; it runs and the result comes back. " +
  "Put the final answer in \\boxed{}.";

/** The prompt of one problem: the user turn and the start of the assistant turn. */
export function buildPrompt(question: string): string {
  return `${USER}${question}\n${TOOL_INSTRUCTION}${END}\n${ASSISTANT}`;
}

/** A fenced code block as the policy should write it. */
export function codeBlock(code: string, language = "python"): string {
  return `\`\`\`${language}\n${code}\n\`\`\``;
}

/** The closing fence of a code block: generation of a turn stops once a complete block is written. */
export const CODE_FENCE = "```";

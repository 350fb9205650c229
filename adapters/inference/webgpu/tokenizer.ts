/**
 * The model's tokenizer (`tokenizer.json` through @huggingface/tokenizers, pure JS) and the chat
 * prompt format. Jinja chat templates are not evaluated: the format is picked from the special
 * tokens the vocabulary has — ChatML (`<|im_start|>`, SmolLM2 / Qwen2), Llama 3
 * (`<|start_header_id|>`), else plain text (a lone user prompt is used verbatim).
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { CarError } from "../../../src/errors.ts";
import type { ChatMessage } from "../../../src/inference/schemas.ts";

export type ChatFormat = "chatml" | "llama3" | "plain";

export class ModelTokenizer {
  readonly format: ChatFormat;
  /** Token ids that end a generation. */
  readonly stopIds: Set<number>;
  private readonly tok: Tokenizer;
  private readonly bos: string | undefined;

  constructor(tokenizerJson: unknown, tokenizerConfig: unknown, eosFromConfig: number[]) {
    try {
      this.tok = new Tokenizer(tokenizerJson as object, (tokenizerConfig ?? {}) as object);
    } catch (err) {
      throw new CarError("invalid_input", "inference:tokenizer", `tokenizer.json: ${(err as Error).message}`);
    }
    const id = (t: string) => this.tok.token_to_id(t);
    this.format = id("<|im_start|>") !== undefined ? "chatml" : id("<|start_header_id|>") !== undefined ? "llama3" : "plain";
    this.stopIds = new Set(eosFromConfig);
    const cfg = (tokenizerConfig ?? {}) as { eos_token?: unknown; bos_token?: unknown };
    const named = (v: unknown) => (typeof v === "string" ? v : typeof v === "object" && v && "content" in v ? String((v as { content: unknown }).content) : undefined);
    const ends = this.format === "chatml" ? ["<|im_end|>"] : this.format === "llama3" ? ["<|eot_id|>", "<|end_of_text|>"] : ["<|endoftext|>"];
    for (const t of [named(cfg.eos_token), ...ends]) {
      const i = t === undefined ? undefined : id(t);
      if (i !== undefined) this.stopIds.add(i);
    }
    this.bos = named(cfg.bos_token);
  }

  encode(text: string, addSpecial = false): number[] {
    return this.tok.encode(text, { add_special_tokens: addSpecial }).ids;
  }

  decode(ids: number[]): string {
    return ids.length === 0 ? "" : this.tok.decode(ids, { skip_special_tokens: true });
  }

  /** Prompt token ids for chat messages, ending where the assistant's reply begins. */
  chatIds(messages: ChatMessage[]): number[] {
    if (this.format === "chatml") {
      const text = messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join("") + "<|im_start|>assistant\n";
      return this.encode(text);
    }
    if (this.format === "llama3") {
      const text = "<|begin_of_text|>" + messages.map((m) => `<|start_header_id|>${m.role}<|end_header_id|>\n\n${m.content}<|eot_id|>`).join("") + "<|start_header_id|>assistant<|end_header_id|>\n\n";
      return this.encode(text);
    }
    const only = messages.length === 1 && messages[0]!.role === "user";
    const text = only ? messages[0]!.content : messages.map((m) => `${m.role[0]!.toUpperCase()}${m.role.slice(1)}: ${m.content}\n`).join("") + "Assistant:";
    const ids = this.encode(text, true);
    const bosId = this.bos === undefined ? undefined : this.tok.token_to_id(this.bos);
    return bosId !== undefined && ids[0] !== bosId ? [bosId, ...ids] : ids;
  }
}

/**
 * Incremental detokenization: emits only text that is final (no dangling partial UTF-8 sequence),
 * decoding a short window of ids so each step costs O(1) in the output length.
 */
export class TextStream {
  private ids: number[] = [];
  private prefix = 0;
  private read = 0;

  constructor(private readonly tok: ModelTokenizer) {}

  /** Adds a token; returns the new text (may be empty). */
  push(id: number): string {
    this.ids.push(id);
    const before = this.tok.decode(this.ids.slice(this.prefix, this.read));
    const after = this.tok.decode(this.ids.slice(this.prefix));
    if (after.length > before.length && !after.endsWith("\uFFFD")) {
      this.prefix = this.read;
      this.read = this.ids.length;
      return after.slice(before.length);
    }
    return "";
  }

  /** Text held back at the end (an incomplete character). */
  flush(): string {
    const before = this.tok.decode(this.ids.slice(this.prefix, this.read));
    const after = this.tok.decode(this.ids.slice(this.prefix));
    this.prefix = this.read = this.ids.length;
    return after.length > before.length ? after.slice(before.length) : "";
  }
}

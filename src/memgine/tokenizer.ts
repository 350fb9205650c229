import { porterStem } from "./porter-stemmer.ts";

/**
 * English stop words: frequent function words that carry no retrieval signal. Kept small on
 * purpose; a word like "not" stays because it changes a fact's meaning.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  "a", "about", "above", "after", "again", "all", "am", "an", "and", "any", "are", "as", "at", "be",
  "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did",
  "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
  "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in",
  "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "of", "off", "on",
  "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she",
  "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then",
  "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very",
  "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with",
  "would", "you", "your", "yours", "yourself", "yourselves",
]);

/** Tokens longer than this are cut: they are hashes or blobs, not words. */
export const MAX_TOKEN_CHARS = 64;

const WORD = /[\p{L}\p{N}]+/gu;
const ASCII_ALPHA = /^[a-z]+$/;

/**
 * Splits text into index terms: NFKC, lower case, runs of letters and digits, stop words dropped,
 * ASCII words Porter-stemmed. Non-ASCII words are kept whole (no stemmer for them).
 */
export function tokenize(text: string): string[] {
  return words(text).map((w) => w.term);
}

/** Each non-stop word of `text` (lower case) with its index term. */
export function words(text: string): Array<{ word: string; term: string }> {
  const out: Array<{ word: string; term: string }> = [];
  const lower = text.normalize("NFKC").toLowerCase();
  for (const match of lower.matchAll(WORD)) {
    let word = match[0];
    if (STOP_WORDS.has(word)) continue;
    if (word.length > MAX_TOKEN_CHARS) word = word.slice(0, MAX_TOKEN_CHARS);
    out.push({ word, term: ASCII_ALPHA.test(word) ? porterStem(word) : word });
  }
  return out;
}

/** Term → occurrence count for `text`, each occurrence weighted by `weight`. */
export function termCounts(text: string, weight = 1, into: Map<string, number> = new Map()): Map<string, number> {
  for (const t of tokenize(text)) into.set(t, (into.get(t) ?? 0) + weight);
  return into;
}

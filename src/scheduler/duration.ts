import { CarError } from "../errors.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses an interval such as `"5m"`, `"90s"`, `"1h30m"`, `"1.5h"` (units ms, s, m, h, d, w) into milliseconds. */
export function parseInterval(text: string): number {
  const s = text.trim().toLowerCase();
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while (pos < s.length && (m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
    while (s[pos] === " ") pos++;
    re.lastIndex = pos;
  }
  if (s.length === 0 || pos !== s.length) {
    throw new CarError("invalid_input", "scheduler", `invalid interval "${text}": expected a number with a unit (ms, s, m, h, d, w), e.g. "5m" or "1h30m"`, { schedule: text });
  }
  return Math.round(total);
}

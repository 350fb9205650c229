import { CarError } from "../errors.ts";

/** A parsed 5-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC. */
export interface CronSchedule {
  readonly source: string;
  readonly minutes: readonly boolean[];
  readonly hours: readonly boolean[];
  readonly days: readonly boolean[];
  readonly months: readonly boolean[];
  readonly weekdays: readonly boolean[];
  /** Whether day-of-month / day-of-week were `*`: when both are restricted, either may match (Vixie cron). */
  readonly anyDay: boolean;
  readonly anyWeekday: boolean;
}

/** How far `nextCronTime`/`prevCronTime` search: 9 years covers Feb 29 across a skipped leap year (2100). */
export const CRON_SEARCH_DAYS = 366 * 9;

const MINUTE = 60_000;
const DAY = 86_400_000;
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
};

function bad(expr: string, why: string): CarError {
  return new CarError("invalid_input", "scheduler", `invalid cron expression "${expr}": ${why}`, { schedule: expr });
}

function parseField(expr: string, field: string, label: string, min: number, max: number, names?: string[]): boolean[] {
  const out = new Array<boolean>(max + 1).fill(false);
  const value = (s: string): number => {
    const named = names?.indexOf(s.toLowerCase()) ?? -1;
    if (named >= 0) return named + min;
    if (!/^\d+$/.test(s)) throw bad(expr, `${label}: "${s}" is not a number${names ? " or name" : ""}`);
    const n = Number(s);
    if (n < min || n > max) throw bad(expr, `${label}: ${n} is outside ${min}-${max}`);
    return n;
  };
  for (const part of field.split(",")) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m) throw bad(expr, `${label}: cannot read "${part}"`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw bad(expr, `${label}: step must be at least 1`);
    let lo: number;
    let hi: number;
    if (m[1] === "*") [lo, hi] = [min, max];
    else if (m[1]!.includes("-")) {
      const [a, b, extra] = m[1]!.split("-");
      if (extra !== undefined || !a || !b) throw bad(expr, `${label}: cannot read "${part}"`);
      [lo, hi] = [value(a), value(b)];
      if (lo > hi) throw bad(expr, `${label}: range ${lo}-${hi} runs backwards`);
    } else {
      lo = value(m[1]!);
      hi = m[2] === undefined ? lo : max;
    }
    for (let v = lo; v <= hi; v += step) out[v] = true;
  }
  return out;
}

/** Parses a 5-field cron expression (lists, ranges, steps, month/day names, `@daily`-style macros). */
export function parseCron(expression: string): CronSchedule {
  const source = expression.trim();
  const fields = (MACROS[source.toLowerCase()] ?? source).split(/\s+/);
  if (fields.length !== 5) throw bad(expression, `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`);
  const [mi, ho, dom, mon, dow] = fields as [string, string, string, string, string];
  const weekdays = parseField(expression, dow, "day-of-week", 0, 7, WEEKDAYS);
  if (weekdays[7]) weekdays[0] = true; // 7 is Sunday too
  return {
    source,
    minutes: parseField(expression, mi, "minute", 0, 59),
    hours: parseField(expression, ho, "hour", 0, 23),
    days: parseField(expression, dom, "day-of-month", 1, 31),
    months: parseField(expression, mon, "month", 1, 12, MONTHS),
    weekdays: weekdays.slice(0, 7),
    anyDay: dom.startsWith("*"),
    anyWeekday: dow.startsWith("*"),
  };
}

function dayMatches(c: CronSchedule, dayStart: number): boolean {
  const d = new Date(dayStart);
  if (!c.months[d.getUTCMonth() + 1]) return false;
  const dom = c.days[d.getUTCDate()]!;
  const dow = c.weekdays[d.getUTCDay()]!;
  if (!c.anyDay && !c.anyWeekday) return dom || dow;
  return dom && dow;
}

/** Whether the minute containing `ms` (UTC) is one the schedule fires at. */
export function cronMatches(c: CronSchedule, ms: number): boolean {
  const d = new Date(ms);
  return dayMatches(c, ms - (ms % DAY)) && c.hours[d.getUTCHours()]! && c.minutes[d.getUTCMinutes()]!;
}

/** The first firing time strictly after `afterMs`, or undefined when none falls within CRON_SEARCH_DAYS. */
export function nextCronTime(c: CronSchedule, afterMs: number): number | undefined {
  const t = Math.floor(afterMs / MINUTE) * MINUTE + MINUTE;
  let day = t - (((t % DAY) + DAY) % DAY);
  let from = (t - day) / MINUTE;
  for (let i = 0; i <= CRON_SEARCH_DAYS; i++, day += DAY, from = 0) {
    if (!dayMatches(c, day)) continue;
    for (let m = from; m < 1440; m++) if (c.hours[Math.floor(m / 60)] && c.minutes[m % 60]) return day + m * MINUTE;
  }
  return undefined;
}

/** The last firing time at or before `atMs`, or undefined when none falls within CRON_SEARCH_DAYS. */
export function prevCronTime(c: CronSchedule, atMs: number): number | undefined {
  const t = Math.floor(atMs / MINUTE) * MINUTE;
  let day = t - (((t % DAY) + DAY) % DAY);
  let to = (t - day) / MINUTE;
  for (let i = 0; i <= CRON_SEARCH_DAYS; i++, day -= DAY, to = 1439) {
    if (!dayMatches(c, day)) continue;
    for (let m = to; m >= 0; m--) if (c.hours[Math.floor(m / 60)] && c.minutes[m % 60]) return day + m * MINUTE;
  }
  return undefined;
}

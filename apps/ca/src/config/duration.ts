/**
 * Durations as operators write them: Go-style sequences of a number and a
 * unit, `90s`, `30m`, `24h`, `1h30m`, `10d`.
 */
import type { Problem } from '@weft/pki';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds in `text`, or a problem at `field`. Never throws. */
export function parseDuration(text: string, field: string): { seconds: number } | { problem: Problem } {
  const re = /(\d+(?:\.\d+)?)(s|m|h|d)/gy;
  let seconds = 0;
  let consumed = 0;
  for (const match of text.matchAll(re)) {
    seconds += Number(match[1]) * UNIT_SECONDS[match[2]!]!;
    consumed += match[0].length;
  }
  if (text.length === 0 || consumed !== text.length) {
    return { problem: { field, message: `"${text}" is not a duration like 90s, 30m, 24h or 1h30m` } };
  }
  if (seconds <= 0) return { problem: { field, message: 'duration must be positive' } };
  return { seconds: Math.round(seconds) };
}

/** `86400` -> `24h`, `5400` -> `1h30m`, `45` -> `45s`. */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}

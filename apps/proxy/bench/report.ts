/**
 * proxy-bench.ts's report: medians over runs per target, the main table,
 * the sidecar pairs' table (latency added to direct, vCPU per 1000 req/s
 * per proxy, RSS per proxy) with ratios, and one JSON line with every median.
 */

/** One run's figures for one target. CPU µs are per request; "ByProxy" lists follow the target's pids. */
export interface Sample {
  readonly maxRps: number;
  readonly maxCpuUs: number;
  readonly rateCpuUs: number;
  readonly rateCpuUsByProxy: readonly number[];
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly rssMbByProxy: readonly number[];
  readonly errors: number;
}

export interface Row {
  readonly target: string;
  readonly samples: readonly Sample[];
}

export interface ReportSettings {
  readonly runs: number;
  readonly seconds: number;
  readonly rate: number;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface Medians {
  readonly target: string;
  readonly maxRps: number;
  readonly maxCpuUs: number;
  readonly rateCpuUs: number;
  readonly rateCpuUsByProxy: number[];
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly rssMbByProxy: number[];
  readonly errors: number;
}

function mediansOf(row: Row): Medians {
  const m = (pick: (s: Sample) => number) => median(row.samples.map(pick));
  const proxies = row.samples[0]?.rssMbByProxy.length ?? 0;
  const each = (pick: (s: Sample) => readonly number[]) =>
    Array.from({ length: proxies }, (_, i) => m((s) => pick(s)[i]!));
  return {
    target: row.target,
    maxRps: m((s) => s.maxRps),
    maxCpuUs: m((s) => s.maxCpuUs),
    rateCpuUs: m((s) => s.rateCpuUs),
    rateCpuUsByProxy: each((s) => s.rateCpuUsByProxy),
    p50: m((s) => s.p50),
    p90: m((s) => s.p90),
    p99: m((s) => s.p99),
    rssMbByProxy: each((s) => s.rssMbByProxy),
    errors: row.samples.reduce((n, s) => n + s.errors, 0),
  };
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const signed = (n: number, digits = 2) => (n >= 0 ? `+${fmt(n, digits)}` : fmt(n, digits));

function table(header: readonly string[], lines: readonly (readonly string[])[]): void {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
}

/** Prints the tables and the JSON line. */
export function printReport(rows: readonly Row[], settings: ReportSettings): void {
  const { runs, seconds, rate } = settings;
  const all = rows.map(mediansOf);
  const ha = all.find((r) => r.target.startsWith('haproxy'));
  const direct = all.find((r) => r.target === 'direct');
  const isDirect = (r: Medians) => r.target === 'direct';
  console.log(
    `\nmedians of ${runs} runs, ${seconds} s each; HTTP/1.1 keep-alive GET, 1 KiB responses; fixed rate ${rate} req/s\n`,
  );
  table(
    [
      'target',
      'max req/s',
      'CPU µs/req @max',
      `CPU µs/req @${rate}/s`,
      'vs HAProxy (@max)',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'p99 - direct',
      'RSS MB',
      'errors',
    ],
    all.map((r) => [
      r.target,
      fmt(r.maxRps, 0),
      isDirect(r) ? '-' : fmt(r.maxCpuUs),
      isDirect(r) ? '-' : fmt(r.rateCpuUs),
      ha && !isDirect(r) ? `${fmt(r.maxCpuUs / ha.maxCpuUs, 2)}x` : '-',
      fmt(r.p50, 2),
      fmt(r.p90, 2),
      fmt(r.p99, 2),
      direct && !isDirect(r) ? signed(r.p99 - direct.p99) : '-',
      isDirect(r) ? '-' : r.rssMbByProxy.map((x) => fmt(x, 0)).join(' + '),
      String(r.errors),
    ]),
  );
  const pairs = all.filter((r) => r.target.startsWith('pair'));
  if (pairs.length > 0) {
    console.log(
      `\nsidecar pairs (client proxy + server proxy); CPU summed over both proxies; vCPU per 1000 req/s and RSS per proxy as client / server\n`,
    );
    const added = (r: Medians, key: 'p50' | 'p90' | 'p99') => (direct ? signed(r[key] - direct[key]) : '-');
    table(
      [
        'pair',
        'max req/s',
        'CPU µs/req @max (both)',
        `CPU µs/req @${rate}/s (both)`,
        `vCPU per 1000 req/s per proxy @${rate}/s`,
        'added p50 ms',
        'added p90 ms',
        'added p99 ms',
        'RSS MB per proxy',
        'errors',
      ],
      pairs.map((r) => [
        r.target,
        fmt(r.maxRps, 0),
        fmt(r.maxCpuUs),
        fmt(r.rateCpuUs),
        r.rateCpuUsByProxy.map((us) => fmt(us / 1000, 3)).join(' / '),
        added(r, 'p50'),
        added(r, 'p90'),
        added(r, 'p99'),
        r.rssMbByProxy.map((x) => fmt(x, 0)).join(' / '),
        String(r.errors),
      ]),
    );
    const plain = pairs.find((r) => r.target === 'pair plaintext');
    const mtls = pairs.find((r) => r.target.startsWith('pair mTLS'));
    if (plain && mtls) {
      console.log(
        `\nmTLS / plaintext pair: max req/s ${fmt(mtls.maxRps / plain.maxRps, 2)}x, CPU/req @max ${fmt(mtls.maxCpuUs / plain.maxCpuUs, 2)}x, ` +
          `CPU/req @${rate}/s ${fmt(mtls.rateCpuUs / plain.rateCpuUs, 2)}x, p50 ${signed(mtls.p50 - plain.p50)} ms, p99 ${signed(mtls.p99 - plain.p99)} ms`,
      );
    }
    if (direct) {
      for (const r of pairs) {
        console.log(
          `${r.target} / direct: max req/s ${fmt(r.maxRps / direct.maxRps, 2)}x, p50 ${fmt(r.p50 / direct.p50, 2)}x, p99 ${fmt(r.p99 / direct.p99, 2)}x`,
        );
      }
    }
  }
  console.log(`\n${JSON.stringify({ runs, seconds, rate, rows: all })}`);
}

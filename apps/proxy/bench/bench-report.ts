/**
 * proxy-bench.ts's report: medians over runs per target, one table per
 * protocol (direct, weft-proxy, HAProxy; ratios to that protocol's HAProxy
 * and latency against its direct), the sidecar pairs' table (latency added
 * to direct, vCPU per 1000 req/s per proxy, RSS per proxy), every failed
 * request and failed routing check by target (such a target is flagged in
 * its table), and one JSON line with every median.
 */
import { PROTOCOL_TITLES, PROTOCOLS, type Protocol } from './bench-protocols.ts';
import type { TargetKind } from './bench-target.ts';

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
  /** Answered requests (2xx / gRPC OK, full body) over the warm-up, max and fixed-rate phases. */
  readonly ok: number;
  /** Failed requests over the same phases (bad status included). */
  readonly errors: number;
  readonly badStatus: number;
  readonly failures: Readonly<Record<string, number>>;
  /** Routing checks that failed (the backend or the proxy counted fewer requests than were answered). */
  readonly checkProblems: readonly string[];
}

export interface Row {
  readonly target: string;
  readonly protocol: Protocol;
  readonly kind: TargetKind;
  readonly samples: readonly Sample[];
}

export interface ReportSettings {
  readonly runs: number;
  readonly seconds: number;
  readonly rate: number;
  /** Wall time of the bench itself, and since the npm script started (build included) when known. */
  readonly wallSeconds: number;
  readonly wallSecondsWithBuild?: number;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface Medians {
  readonly target: string;
  readonly protocol: Protocol;
  readonly kind: TargetKind;
  readonly maxRps: number;
  readonly maxCpuUs: number;
  readonly rateCpuUs: number;
  readonly rateCpuUsByProxy: number[];
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly rssMbByProxy: number[];
  /** Sums over runs. */
  readonly ok: number;
  readonly errors: number;
  readonly badStatus: number;
  readonly failures: Record<string, number>;
  readonly checkProblems: string[];
}

function mediansOf(row: Row): Medians {
  const m = (pick: (s: Sample) => number) => median(row.samples.map(pick));
  const proxies = row.samples[0]?.rssMbByProxy.length ?? 0;
  const each = (pick: (s: Sample) => readonly number[]) =>
    Array.from({ length: proxies }, (_, i) => m((s) => pick(s)[i]!));
  const failures: Record<string, number> = {};
  for (const sample of row.samples) {
    for (const [what, count] of Object.entries(sample.failures))
      failures[what] = (failures[what] ?? 0) + count;
  }
  return {
    target: row.target,
    protocol: row.protocol,
    kind: row.kind,
    maxRps: m((s) => s.maxRps),
    maxCpuUs: m((s) => s.maxCpuUs),
    rateCpuUs: m((s) => s.rateCpuUs),
    rateCpuUsByProxy: each((s) => s.rateCpuUsByProxy),
    p50: m((s) => s.p50),
    p90: m((s) => s.p90),
    p99: m((s) => s.p99),
    rssMbByProxy: each((s) => s.rssMbByProxy),
    ok: row.samples.reduce((n, s) => n + s.ok, 0),
    errors: row.samples.reduce((n, s) => n + s.errors, 0),
    badStatus: row.samples.reduce((n, s) => n + s.badStatus, 0),
    failures,
    checkProblems: row.samples.flatMap((s, i) => s.checkProblems.map((p) => `run ${i + 1}: ${p}`)),
  };
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const signed = (n: number, digits = 2) => (n >= 0 ? `+${fmt(n, digits)}` : fmt(n, digits));
const ratio = (n: number, of: number | undefined) => (of === undefined ? '-' : `${fmt(n / of, 2)}x`);

/** `ok`, or why the target's figures cannot be trusted. */
function verdict(r: Medians): string {
  const flags: string[] = [];
  if (r.errors > 0) flags.push(`FAILED ${r.errors}`);
  if (r.checkProblems.length > 0) flags.push('NOT ROUTED');
  if (r.ok === 0) flags.push('NO ANSWERS');
  return flags.length === 0 ? 'ok' : `**${flags.join(', ')}**`;
}

function table(header: readonly string[], lines: readonly (readonly string[])[]): void {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
}

function protocolTable(rows: readonly Medians[], rate: number): void {
  const ha = rows.find((r) => r.kind === 'haproxy');
  const direct = rows.find((r) => r.kind === 'direct');
  const proxied = (r: Medians) => r.kind !== 'direct';
  table(
    [
      'target',
      'max req/s',
      'CPU µs/req @max',
      `CPU µs/req @${rate}/s`,
      'vs HAProxy @max',
      `vs HAProxy @${rate}/s`,
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'p99 - direct',
      'RSS MB',
      'answered',
      'failed',
      'check',
    ],
    rows.map((r) => [
      r.target,
      fmt(r.maxRps, 0),
      proxied(r) ? fmt(r.maxCpuUs) : '-',
      proxied(r) ? fmt(r.rateCpuUs) : '-',
      proxied(r) ? ratio(r.maxCpuUs, ha?.maxCpuUs) : '-',
      proxied(r) ? ratio(r.rateCpuUs, ha?.rateCpuUs) : '-',
      fmt(r.p50, 2),
      fmt(r.p90, 2),
      fmt(r.p99, 2),
      direct && proxied(r) ? signed(r.p99 - direct.p99) : '-',
      proxied(r) ? r.rssMbByProxy.map((x) => fmt(x, 0)).join(' + ') : '-',
      String(r.ok),
      String(r.errors),
      verdict(r),
    ]),
  );
}

function pairsTable(pairs: readonly Medians[], direct: Medians | undefined, rate: number): void {
  console.log(
    `\nsidecar pairs (client proxy + server proxy), HTTP/1.1; CPU summed over both proxies; vCPU per 1000 req/s and RSS per proxy as client / server\n`,
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
      'failed',
      'check',
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
      verdict(r),
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

/** Lines naming every failure and failed check, or one line saying there were none. */
function problems(all: readonly Medians[]): void {
  const bad = all.filter((r) => r.errors > 0 || r.checkProblems.length > 0 || r.ok === 0);
  if (bad.length === 0) {
    console.log('\nno failed request and every routing check held (backend and proxy counters >= answered)');
    return;
  }
  console.log('\nproblems (figures of these targets are not comparable):');
  for (const r of bad) {
    const failures = Object.entries(r.failures)
      .map(([what, count]) => `${what}: ${count}`)
      .join(', ');
    if (r.errors > 0) console.log(`- ${r.protocol} ${r.target}: ${r.errors} failed (${failures})`);
    for (const problem of r.checkProblems) console.log(`- ${r.protocol} ${r.target}: ${problem}`);
    if (r.ok === 0) console.log(`- ${r.protocol} ${r.target}: no request answered`);
  }
}

/** Prints the tables, the problems, the wall time and the JSON line. */
export function printReport(rows: readonly Row[], settings: ReportSettings): void {
  const { runs, seconds, rate } = settings;
  const all = rows.map(mediansOf);
  console.log(
    `\nmedians of ${runs} runs, ${seconds} s at max and ${seconds} s at a fixed ${rate} req/s each (plus 1 s warm-up); ` +
      'CPU from /proc of the proxy process trees',
  );
  for (const protocol of PROTOCOLS) {
    const single = all.filter((r) => r.protocol === protocol && r.kind !== 'pair');
    const withPairs = all.filter((r) => r.protocol === protocol);
    if (withPairs.length === 0) continue;
    console.log(`\n${protocol}: ${PROTOCOL_TITLES[protocol]}\n`);
    protocolTable(withPairs, rate);
    const pairs = withPairs.filter((r) => r.kind === 'pair');
    if (pairs.length > 0)
      pairsTable(
        pairs,
        single.find((r) => r.kind === 'direct'),
        rate,
      );
  }
  problems(all);
  const withBuild =
    settings.wallSecondsWithBuild === undefined
      ? ''
      : `, ${fmt(settings.wallSecondsWithBuild, 0)} s since the npm script started (build included)`;
  console.log(`\nwall time: ${fmt(settings.wallSeconds, 0)} s for the bench${withBuild}`);
  console.log(
    `\n${JSON.stringify({ runs, seconds, rate, wallSeconds: settings.wallSeconds, wallSecondsWithBuild: settings.wallSecondsWithBuild, rows: all })}`,
  );
}

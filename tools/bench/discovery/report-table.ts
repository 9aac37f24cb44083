/** The benchmark's result row and its Markdown table. */

export interface ScenarioResult {
  mode: string;
  services: number;
  endpoints: number;
  proxies: number;
  initialSyncSeconds: number;
  syncedProxies: number;
  endpointP50Ms: number;
  endpointP99Ms: number;
  /** `max pushed / expected` proxies over the endpoint changes. */
  endpointPushed: string;
  /** Median resource bytes sent to all proxies for one endpoint change. */
  endpointBytes: number;
  vsP50Ms: number;
  vsBytes: number;
  peakRssMb: number;
  /** CPU seconds of weft-discovery over the whole scenario. */
  discoveryCpuSeconds: number;
  /** CPU seconds of weft-discovery during the initial sync. */
  syncCpuSeconds: number;
  /** CPU seconds of the load processes. */
  loadCpuSeconds: number;
  notes: string[];
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function bytes(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

const HEADER = [
  'mode',
  'S',
  'E',
  'N',
  'initial sync s',
  'EP change p50 ms',
  'EP p99 ms',
  'pushed/seeing',
  'bytes/EP change',
  'VS change p50 ms',
  'bytes/VS change',
  'peak RSS MB',
  'CPU s (sync)',
  'CPU s (all)',
  'load CPU s',
];

/** A Markdown table, one row per scenario, notes below. */
export function formatTable(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => [
    r.mode,
    String(r.services),
    String(r.endpoints),
    String(r.proxies),
    r.syncedProxies < r.proxies ? `${r.syncedProxies}/${r.proxies} synced` : fixed(r.initialSyncSeconds, 2),
    fixed(r.endpointP50Ms, 0),
    fixed(r.endpointP99Ms, 0),
    r.endpointPushed || '-',
    bytes(r.endpointBytes),
    fixed(r.vsP50Ms, 0),
    bytes(r.vsBytes),
    fixed(r.peakRssMb, 0),
    fixed(r.syncCpuSeconds, 1),
    fixed(r.discoveryCpuSeconds, 1),
    fixed(r.loadCpuSeconds, 1),
  ]);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const out = [line(HEADER), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  for (const r of results)
    for (const note of r.notes) out.push(`- ${r.mode} S=${r.services} N=${r.proxies}: ${note}`);
  return out.join('\n');
}

/**
 * Merges the admin text of several worker processes into one view, as a
 * single Envoy with N worker threads shows it: counters summed.
 *
 * - `/stats` lines `name: value`: values of one name summed.
 * - `/clusters` lines `cluster::host::field::value`: `rq_*` counters summed,
 *   other fields (weights, thresholds, health flags) taken from the first
 *   worker that reports them.
 * - Prometheus text: samples with the same name and labels summed (counters,
 *   histogram buckets, sums and counts are all additive; the proxy exports
 *   no gauges whose sum would mislead); `# HELP`/`# TYPE` kept once.
 */

/** Sums `/stats` texts line by line. */
export function sumStats(texts: readonly string[]): string {
  const totals = new Map<string, number>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const colon = line.lastIndexOf(': ');
      if (colon < 0) continue;
      const value = Number(line.slice(colon + 2));
      if (!Number.isFinite(value)) continue;
      const name = line.slice(0, colon);
      totals.set(name, (totals.get(name) ?? 0) + value);
    }
  }
  return `${[...totals].map(([name, value]) => `${name}: ${value}`).join('\n')}\n`;
}

/** Merges `/clusters` texts: request counters summed, settings from the first worker. */
export function sumClusters(texts: readonly string[]): string {
  const merged = new Map<string, string>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const cut = line.lastIndexOf('::');
      if (cut < 0) continue;
      const key = line.slice(0, cut);
      const value = line.slice(cut + 2);
      const previous = merged.get(key);
      if (previous === undefined) merged.set(key, value);
      else if (/::rq_[a-z_]+$/.test(key)) merged.set(key, String(Number(previous) + Number(value)));
    }
  }
  return `${[...merged].map(([key, value]) => `${key}::${value}`).join('\n')}\n`;
}

/** Merges Prometheus text expositions by summing equal series. */
export function mergePrometheus(texts: readonly string[]): string {
  const out: string[] = [];
  const samples = new Map<string, number>();
  const seenComments = new Set<string>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        if (!seenComments.has(line)) {
          seenComments.add(line);
          out.push(line);
        }
        continue;
      }
      const space = line.lastIndexOf(' ');
      const series = line.slice(0, space);
      const value = Number(line.slice(space + 1));
      if (!samples.has(series)) out.push(series);
      samples.set(series, (samples.get(series) ?? 0) + (Number.isFinite(value) ? value : 0));
    }
  }
  return `${out.map((line) => (line.startsWith('#') ? line : `${line} ${samples.get(line)}`)).join('\n')}\n`;
}

/**
 * Reading Prometheus text exposition in tests: the sample lines of a metric
 * whose labels include the given ones, and a sample line's value.
 */

/** Sample lines of `name` whose labels contain every `key="value"` given. */
export function samples(text: string, name: string, labels: Record<string, string> = {}): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .filter((line) => Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)));
}

/** The value of a sample line (NaN for none). */
export function sampleValue(line: string | undefined): number {
  return Number(line?.slice(line.lastIndexOf(' ') + 1));
}

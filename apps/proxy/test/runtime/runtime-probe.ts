/**
 * Preload for runtime-ab.ts (`node --import runtime-probe.ts dist/main.js`):
 * records the event loop's delay (perf_hooks.monitorEventLoopDelay, 1 ms
 * resolution), every GC pause (PerformanceObserver 'gc') and the time the
 * process waited for a CPU while runnable (/proc/self/schedstat: the
 * machine's contention, not the proxy's work) in weft-proxy, and answers
 * SIGUSR2 by writing them to PROBE_OUT as one JSON line, then resetting.
 * A measurement aid only: weft-proxy never loads it itself.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const out = process.env.PROBE_OUT;
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
let pauses: { kind: string; ms: number }[] = [];
const runQueueNs = (): number => Number(readFileSync('/proc/self/schedstat', 'utf8').split(' ')[1]);
let runQueueAtReset = runQueueNs();
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
    pauses.push({ kind: KINDS[kind] ?? String(kind), ms: entry.duration });
  }
}).observe({ entryTypes: ['gc'] });
process.on('SIGUSR2', () => {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const sum = (kind: string) => pauses.filter((p) => p.kind === kind).reduce((a, p) => a + p.ms, 0);
  const line = {
    loopP50Ms: ms(delay.percentile(50)),
    loopP99Ms: ms(delay.percentile(99)),
    loopMaxMs: ms(delay.max),
    gcCount: pauses.length,
    gcMinorMs: Math.round(sum('minor') * 10) / 10,
    gcMajorMs: Math.round((sum('major') + sum('incremental')) * 10) / 10,
    gcMaxMs: Math.round(Math.max(0, ...pauses.map((p) => p.ms)) * 10) / 10,
    gcOver5Ms: pauses.filter((p) => p.ms > 5).length,
    heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1048576),
    heapTotalMb: Math.round(process.memoryUsage().heapTotal / 1048576),
    runQueueWaitMs: Math.round((runQueueNs() - runQueueAtReset) / 1e6),
  };
  runQueueAtReset = runQueueNs();
  if (out) appendFileSync(out, `${JSON.stringify(line)}\n`);
  delay.reset();
  pauses = [];
});

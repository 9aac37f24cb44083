/**
 * Benchmark load generator, in its own process (its CPU is not the
 * proxy's): HTTP/1.1 keep-alive GETs over an undici Pool.
 *
 * - `max`: closed loop, `inFlight` requests always outstanding, for
 *   `seconds`; reports requests per second.
 * - `rate`: open loop at a fixed `rate` per second (wrk2-style): request i is
 *   due at start + i/rate and its latency is measured from that due time,
 *   so a stalled proxy cannot hide queueing (no coordinated omission).
 *
 * Receives one job over IPC, answers with the result, then waits for the next.
 */
import { Pool } from 'undici';

export interface LoadJob {
  readonly url: string;
  readonly host: string;
  readonly mode: 'max' | 'rate';
  readonly seconds: number;
  readonly connections: number;
  readonly inFlight?: number;
  readonly rate?: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  /** Milliseconds, from each request's due time (rate mode) or send time (max mode). */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(job: LoadJob): Promise<LoadResult> {
  const url = new URL(job.url);
  const pool = new Pool(url.origin, {
    connections: job.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const latencies: number[] = [];
  let errors = 0;
  const one = async (due: number): Promise<void> => {
    try {
      const response = await pool.request({ method: 'GET', path: url.pathname, headers: { host: job.host } });
      await response.body.dump();
      if (response.statusCode !== 200) errors++;
      else latencies.push(performance.now() - due);
    } catch {
      errors++;
    }
  };
  const started = performance.now();
  const end = started + job.seconds * 1000;
  if (job.mode === 'max') {
    const worker = async (): Promise<void> => {
      while (performance.now() < end) await one(performance.now());
    };
    await Promise.all(Array.from({ length: job.inFlight ?? 64 }, worker));
  } else {
    const rate = job.rate ?? 1000;
    const total = Math.floor(rate * job.seconds);
    const inFlight = new Set<Promise<void>>();
    let sent = 0;
    while (sent < total) {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - started) * rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const request = one(started + (sent * 1000) / rate);
        inFlight.add(request);
        void request.finally(() => inFlight.delete(request));
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(inFlight);
  }
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length + errors,
    errors,
    seconds,
    requestsPerSecond: latencies.length / seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
  };
}

process.on('message', (job: LoadJob) => {
  run(job).then(
    (result) => process.send?.({ result }),
    (error: unknown) => process.send?.({ error: String(error) }),
  );
});
process.send?.({ ready: true });

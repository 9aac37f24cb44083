/**
 * Load child of runtime-ab.ts: on each IPC job, drives HTTP/1.1 keep-alive
 * GETs at a URL and replies with the figures. `max`: closed loop, `inFlight`
 * requests over `connections`. `rate`: open loop at `rate` req/s, latency
 * measured from each request's due time (wrk2-style, no coordinated
 * omission). Runs in its own process so its GC and CPU never count as the
 * proxy's.
 */
import { Pool } from 'undici';

export interface RuntimeLoadJob {
  readonly url: string;
  readonly host: string;
  readonly mode: 'max' | 'rate';
  readonly seconds: number;
  readonly connections: number;
  readonly inFlight: number;
  readonly rate: number;
}

export interface RuntimeLoadResult {
  readonly requests: number;
  readonly failed: number;
  readonly requestsPerSecond: number;
  /** Milliseconds, from the due time (rate) or the send time (max). */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(job: RuntimeLoadJob): Promise<RuntimeLoadResult> {
  const url = new URL(job.url);
  // https: the proxy's listener terminates TLS with a self-signed certificate (runtime-ab --tls).
  const pool = new Pool(url.origin, {
    connections: job.connections,
    pipelining: 1,
    connect: { rejectUnauthorized: false },
  });
  const latencies: number[] = [];
  let failed = 0;
  const once = async (due: number): Promise<void> => {
    try {
      const response = await pool.request({
        path: url.pathname + url.search,
        method: 'GET',
        headers: { host: job.host },
      });
      await response.body.dump();
      if (response.statusCode !== 200) failed++;
    } catch {
      failed++;
    }
    latencies.push(performance.now() - due);
  };
  const started = performance.now();
  const end = started + job.seconds * 1000;
  if (job.mode === 'max') {
    const worker = async (): Promise<void> => {
      while (performance.now() < end) await once(performance.now());
    };
    await Promise.all(Array.from({ length: job.inFlight }, worker));
  } else {
    const interval = 1000 / job.rate;
    const pending: Promise<void>[] = [];
    for (let i = 0; ; i++) {
      const due = started + i * interval;
      if (due >= end) break;
      // Never early: a timer's lateness counts into the latency (from the due time), as in wrk2.
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(once(due));
    }
    await Promise.all(pending);
  }
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    failed,
    requestsPerSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
  };
}

process.on('message', (job: RuntimeLoadJob) => {
  run(job).then(
    (result) => process.send?.({ result }),
    (error: unknown) => process.send?.({ error: String(error) }),
  );
});
process.send?.({ ready: true });

/**
 * Benchmark load generator, in its own process (its CPU is not the
 * proxy's): one protocol's client (load-clients.ts: HTTP/1.1 over an undici
 * Pool, HTTP/2 over node:http2 sessions, gRPC unary over @grpc/grpc-js).
 *
 * - `max`: closed loop, `inFlight` requests always outstanding, for
 *   `seconds`; reports requests per second.
 * - `rate`: open loop at a fixed `rate` per second (wrk2-style): request i is
 *   due at start + i/rate and its latency is measured from that due time,
 *   so a stalled proxy cannot hide queueing (no coordinated omission).
 *
 * Receives one job over IPC, answers with the result, then waits for the next.
 */
import type { Protocol } from './bench-protocols.ts';
import { createLoadClient, type Outcome } from './load-clients.ts';

export interface LoadJob {
  readonly url: string;
  readonly host: string;
  /** Default `http1`. */
  readonly protocol?: Protocol;
  readonly mode: 'max' | 'rate';
  readonly seconds: number;
  /** Connections (HTTP/1.1) or HTTP/2 sessions / gRPC channels. */
  readonly connections: number;
  readonly inFlight?: number;
  readonly rate?: number;
}

export interface LoadResult {
  /** Requests sent and finished (answered or failed). */
  readonly requests: number;
  /** Requests answered 2xx / gRPC OK with the full 1 KiB. */
  readonly ok: number;
  /** Every failed request: `badStatus` plus transport errors. */
  readonly errors: number;
  /** Failed with an answer: non-2xx, non-OK gRPC status, short body. */
  readonly badStatus: number;
  /** Failed requests by what went wrong (`status 503`, `grpc UNAVAILABLE`, `ECONNRESET`). */
  readonly failures: Readonly<Record<string, number>>;
  readonly seconds: number;
  /** Answered (ok) requests per second. */
  readonly requestsPerSecond: number;
  /** Milliseconds, from each request's due time (rate mode) or send time (max mode), ok requests only. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(job: LoadJob): Promise<LoadResult> {
  const client = createLoadClient({
    protocol: job.protocol ?? 'http1',
    origin: new URL(job.url).origin,
    host: job.host,
    connections: job.connections,
  });
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let errors = 0;
  let badStatus = 0;
  const record = (outcome: Outcome, due: number): void => {
    if (outcome.ok) {
      latencies.push(performance.now() - due);
      return;
    }
    errors++;
    if (outcome.kind === 'status') badStatus++;
    failures[outcome.detail] = (failures[outcome.detail] ?? 0) + 1;
  };
  const one = async (due: number): Promise<void> => record(await client.send(), due);
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
  await client.close();
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length + errors,
    ok: latencies.length,
    errors,
    badStatus,
    failures,
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

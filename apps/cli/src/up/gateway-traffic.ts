/**
 * `weft up --exit-after`'s traffic: a few keep-alive clients requesting
 * `/productpage` through the ingress gateway until a deadline, counting
 * answers, latencies and the reviews version each page names.
 */
import http from 'node:http';
import type { GatewayTraffic } from './mesh-summary.ts';

export interface TrafficOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly durationMs: number;
  readonly concurrency: number;
  readonly now?: () => number;
}

interface Outcome {
  readonly status: number;
  readonly ms: number;
  readonly version: string | undefined;
}

const VERSION = /data-version="([^"]+)"/;

function once(agent: http.Agent, options: TrafficOptions, now: () => number): Promise<Outcome> {
  const started = now();
  return new Promise((resolve) => {
    const request = http.get(
      { agent, host: options.host, port: options.port, path: options.path, timeout: 5000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            ms: now() - started,
            version: VERSION.exec(body)?.[1],
          });
        });
        response.on('error', () => resolve({ status: 0, ms: now() - started, version: undefined }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve({ status: 0, ms: now() - started, version: undefined }));
  });
}

function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** A reply counts as served when it is 200 and names a reviews version (the page was assembled). */
export async function driveTraffic(options: TrafficOptions): Promise<GatewayTraffic> {
  const now = options.now ?? (() => performance.now());
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const deadline = now() + options.durationMs;
  const outcomes: Outcome[] = [];
  const client = async (): Promise<void> => {
    while (now() < deadline) outcomes.push(await once(agent, options, now));
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  agent.destroy();
  const latencies = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const served = outcomes.filter((o) => o.status === 200 && o.version !== undefined);
  const reviewsVersions: Record<string, number> = {};
  for (const o of served) reviewsVersions[o.version!] = (reviewsVersions[o.version!] ?? 0) + 1;
  return {
    requests: outcomes.length,
    succeeded: served.length,
    successRate: outcomes.length === 0 ? 0 : served.length / outcomes.length,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    reviewsVersions,
  };
}

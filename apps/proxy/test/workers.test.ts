/**
 * `--concurrency 2` with the built binary: the primary holds ADS and admin,
 * two workers share the listener port (SO_REUSEPORT). Both serve, a config
 * push reaches both, admin sums their counters, and a killed worker is
 * forked again with the current config. The primary re-executes itself in
 * its own pid with the V8 heap flags, and the workers inherit them.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as builders from '../src/testing/builders.ts';
import {
  type Backend,
  type ConfigSet,
  type ControlPlane,
  startBackend,
  startControlPlane,
} from './support/harness.ts';
import { eventually, freePort, type ProxyProcess, startProxyProcess } from './support/processes.ts';

interface WorkerInfo {
  worker: number;
  pid: number | null;
  ready: boolean;
  restarts: number;
  upstreamRequests: number;
}

function config(backend: Backend, port: number, version: string): ConfigSet {
  return {
    clusters: [builders.edsCluster('app')],
    endpoints: [builders.clusterLoadAssignment('app', [{ port: backend.port }])],
    listeners: [
      builders.listener('http', port, [builders.filterChain(builders.httpConnectionManager('80'))]),
    ],
    routes: [
      builders.routeConfiguration('80', [builders.virtualHost('app', ['*'], [builders.routeTo('app')])], {
        responseHeadersToAdd: [{ header: { key: 'x-version', value: version } }],
      }),
    ],
  };
}

describe('weft-proxy --concurrency 2', () => {
  let plane: ControlPlane;
  let backend: Backend;
  let proxy: ProxyProcess;
  let url: string;

  const workers = async (): Promise<WorkerInfo[]> => JSON.parse((await proxy.adminGet('/workers')).body);
  /** `n` requests over `n` fresh connections (spread across workers by the kernel): their x-version headers. */
  const versions = async (n: number): Promise<string[]> => {
    const agent = new Agent({ connections: n, pipelining: 0 });
    try {
      return await Promise.all(
        Array.from({ length: n }, async () => {
          const response = await request(url, { dispatcher: agent, reset: true });
          await response.body.text();
          return `${response.statusCode} ${String(response.headers['x-version'])}`;
        }),
      );
    } finally {
      await agent.close();
    }
  };

  beforeAll(async () => {
    backend = await startBackend('app');
    plane = await startControlPlane();
    const port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    plane.push(config(backend, port, '1'));
    proxy = await startProxyProcess({
      discovery: plane.address,
      workload: 'test-1',
      listeners: [],
      extraArgs: ['--listener', `http=127.0.0.1:${port}`, '--concurrency', '2'],
    });
  }, 30_000);

  afterAll(async () => {
    await proxy?.stop();
    await plane?.stop();
    await backend?.close();
  });

  it('serves from both workers and sums their counters in admin', async () => {
    await eventually('200 OK through the workers', async () =>
      (await versions(4)).every((v) => v === '200 1'),
    );
    expect(new Set(await versions(200))).toEqual(new Set(['200 1']));
    const info = await workers();
    expect(info).toHaveLength(2);
    for (const worker of info) expect(worker.upstreamRequests).toBeGreaterThan(0);
    const total = info.reduce((n, w) => n + w.upstreamRequests, 0);
    expect((await proxy.adminGet('/stats')).body).toContain(`cluster.app.upstream_rq_total: ${total}`);
  });

  it('applies a config push in every worker', async () => {
    plane.push(config(backend, Number(new URL(url).port), '2'));
    await eventually('every worker to answer with the new route', async () =>
      (await versions(40)).every((v) => v === '200 2'),
    );
    expect(new Set(await versions(100))).toEqual(new Set(['200 2']));
  });

  it('runs the primary (in the pid it was started as) and every worker with the V8 heap flags', async () => {
    const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline(proxy.child.pid!)).toContain('--max-semi-space-size=8');
    for (const worker of await workers()) expect(cmdline(worker.pid!)).toContain('--max-semi-space-size=8');
  });

  it('forks a killed worker again, with the current config', async () => {
    const before = await workers();
    const victim = before[0]!;
    process.kill(victim.pid!, 'SIGKILL');
    await eventually('worker 0 to be back and ready', async () => {
      const now = (await workers())[0]!;
      return now.pid !== victim.pid && now.pid !== null && now.ready && now.restarts === 1;
    });
    expect(new Set(await versions(200))).toEqual(new Set(['200 2']));
    const after = await workers();
    expect(after.every((w) => w.ready)).toBe(true);
    // The forked worker serves too (it starts from zero counters).
    expect(after[0]!.upstreamRequests).toBeGreaterThan(0);
  });
});

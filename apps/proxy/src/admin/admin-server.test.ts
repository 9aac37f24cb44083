import type http from 'node:http';
import { createMetrics } from '@weft/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterManager } from '../upstream/cluster-manager.ts';
import { type AdminHandlers, serverAddress, startStatusServer } from './admin-server.ts';

function buildHandlers(state: { ready: boolean; quits: number }): AdminHandlers {
  const metrics = createMetrics({ serviceName: 'weft-proxy-test' });
  metrics.meter.createCounter('istio_requests_total').add(2, { response_code: '200' });
  return {
    clusters: new ClusterManager(),
    metrics,
    ready: () => state.ready,
    configDump: () => ({ configs: ['secret-ish config'] }),
    drainListeners: () => {},
    quit: () => {
      state.quits++;
    },
    now: () => 0,
  };
}

describe('status server (Istio 15090 / 15021)', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });

  async function start(state: { ready: boolean; quits: number }): Promise<string> {
    const server = await startStatusServer('127.0.0.1', 0, buildHandlers(state));
    servers.push(server);
    const { host, port } = serverAddress(server);
    return `http://${host}:${port}`;
  }

  it('answers /healthz/ready 503 until the config is applied, then 200', async () => {
    const state = { ready: false, quits: 0 };
    const base = await start(state);
    expect((await fetch(`${base}/healthz/ready`)).status).toBe(503);
    state.ready = true;
    const ready = await fetch(`${base}/healthz/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('LIVE\n');
  });

  it('serves Prometheus stats at /stats/prometheus', async () => {
    const base = await start({ ready: true, quits: 0 });
    const res = await fetch(`${base}/stats/prometheus`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/istio_requests_total\{response_code="200"\} 2/);
  });

  it.each([
    { name: 'config dump', method: 'GET', path: '/config_dump', status: 404 },
    { name: 'clusters', method: 'GET', path: '/clusters', status: 404 },
    { name: 'quitquitquit', method: 'POST', path: '/quitquitquit', status: 404 },
    { name: 'drain', method: 'POST', path: '/drain_listeners', status: 404 },
    { name: 'a POST to a status path', method: 'POST', path: '/healthz/ready', status: 405 },
  ])('refuses $name: nothing reveals config or changes state', async ({ method, path, status }) => {
    const state = { ready: true, quits: 0 };
    const base = await start(state);
    const res = await fetch(`${base}${path}`, { method });
    expect(res.status).toBe(status);
    expect(await res.text()).not.toContain('secret-ish');
    expect(state.quits).toBe(0);
  });
});

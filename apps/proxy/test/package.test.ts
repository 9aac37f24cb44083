/**
 * Runs the built binary as a user would (`dist/main.js`, default export
 * conditions, dependencies from their dist/).
 */
import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import * as builders from '../src/testing/builders.ts';
import { startBackend, startControlPlane } from './support/harness.ts';

const run = promisify(execFile);
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

describe('weft-proxy binary', () => {
  it('documents every flag in --help', async () => {
    const { stdout } = await run(process.execPath, [bin, '--help']);
    for (const flag of [
      '--discovery',
      '--mode',
      '--node-id',
      '--namespace',
      '--workload',
      '--admin-addr',
      '--listener',
      '--concurrency',
      '--drain-time',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it('exits 2 with a precise message on bad flags', async () => {
    const error = await run(process.execPath, [bin, '--discovery', 'nope']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toContain('--discovery: expected HOST:PORT');
  });
});

describe('weft-proxy binary against a control plane', () => {
  it('serves what ADS sends on an overridden listener address, reports ready, and exits 0 on SIGTERM', async () => {
    const freePort = async (): Promise<number> => {
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const port = (probe.address() as { port: number }).port;
      await new Promise<void>((r) => probe.close(() => r()));
      return port;
    };
    const backend = await startBackend('app');
    const plane = await startControlPlane();
    plane.push({
      clusters: [builders.edsCluster('app')],
      endpoints: [builders.clusterLoadAssignment('app', [{ port: backend.port }])],
      listeners: [
        builders.listener('virtualOutbound', 15001, [
          builders.filterChain(builders.httpConnectionManager('80')),
        ]),
      ],
      routes: [
        builders.routeConfiguration('80', [builders.virtualHost('app', ['*'], [builders.routeTo('app')])]),
      ],
    });
    const [listenPort, adminPort] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        bin,
        '--discovery',
        plane.address,
        '--node-id',
        'sidecar~127.0.0.1~test-1.default~default.svc.cluster.local',
        '--listener',
        `virtualOutbound=127.0.0.1:${listenPort}`,
        '--admin-addr',
        `127.0.0.1:${adminPort}`,
        '--drain-time',
        '100',
        '--log-level',
        'error',
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let ready = false;
      const deadline = Date.now() + 10_000;
      while (!ready && Date.now() < deadline) {
        ready = await request(`http://127.0.0.1:${adminPort}/ready`)
          .then(async (r) => {
            await r.body.dump();
            return r.statusCode === 200;
          })
          .catch(() => false);
        if (!ready) await new Promise((r) => setTimeout(r, 50));
      }
      expect(ready).toBe(true);
      const res = await request(`http://127.0.0.1:${listenPort}/hello`, { headers: { host: 'app.local' } });
      expect(res.statusCode).toBe(200);
      expect(((await res.body.json()) as { backend: string }).backend).toBe('app');
      const logging = await request(`http://127.0.0.1:${adminPort}/logging?level=debug`, { method: 'POST' });
      expect([logging.statusCode, await logging.body.text()]).toEqual([200, 'active level: debug\n']);
      const bad = await request(`http://127.0.0.1:${adminPort}/logging?level=loud`, { method: 'POST' });
      expect(bad.statusCode).toBe(400);
      await bad.body.dump();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await plane.stop();
      await backend.close();
    }
  });
});

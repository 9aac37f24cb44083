import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { createLogger } from '@weft/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type DebugEndpoints } from './http-server.ts';

function endpoints(overrides: Partial<DebugEndpoints> = {}): DebugEndpoints {
  return {
    ready: () => ({ ready: true }),
    handleMetrics: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('weft_test 1\n');
    },
    syncz: () => [{ nodeId: 'n1' }],
    configDump: (proxyId) =>
      proxyId === 'known.default'
        ? { ok: true, dump: { nodeId: proxyId } }
        : { ok: false, message: 'no proxy' },
    configProblems: () => ({ total: 0, sources: [] }),
    memory: () => ({ rss: 1024 }),
    ...overrides,
  };
}

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(e: DebugEndpoints, lines: string[] = []): Promise<string> {
  const server = createHttpServer(e, createLogger({ name: 't', write: (l) => lines.push(l) }));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('createHttpServer', () => {
  it.each([
    ['/ready', 200, { ready: true }],
    ['/debug/syncz', 200, [{ nodeId: 'n1' }]],
    ['/debug/config_dump?proxyID=known.default', 200, { nodeId: 'known.default' }],
    ['/debug/config_dump?proxyID=other', 404, { error: 'no proxy' }],
    ['/debug/config_dump', 400, { error: 'query parameter proxyID is required (node id or name.namespace)' }],
    ['/debug/config_problems', 200, { total: 0, sources: [] }],
    ['/debug/memory', 200, { rss: 1024 }],
  ])('GET %s answers %i with JSON', async (path, status, body) => {
    const base = await serve(endpoints());
    const response = await fetch(`${base}${path}`);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual(body);
  });

  it('answers 503 with the reasons while not ready', async () => {
    const base = await serve(
      endpoints({ ready: () => ({ ready: false, reasons: ['no push context yet'] }) }),
    );
    const response = await fetch(`${base}/ready`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ ready: false, reasons: ['no push context yet'] });
  });

  it('serves /metrics through the registry handler', async () => {
    const base = await serve(endpoints());
    expect(await (await fetch(`${base}/metrics`)).text()).toBe('weft_test 1\n');
  });

  it.each([
    ['an unknown path', 'GET', '/nope', 404],
    ['a POST', 'POST', '/ready', 405],
  ])('refuses %s', async (_name, method, path, status) => {
    const base = await serve(endpoints());
    const response = await fetch(`${base}${path}`, { method });
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: string }).error).toBeTruthy();
  });

  it('answers 500 when a handler throws, logs it, and keeps serving', async () => {
    const lines: string[] = [];
    const base = await serve(
      endpoints({
        syncz: () => {
          throw new Error('boom');
        },
      }),
      lines,
    );
    expect((await fetch(`${base}/debug/syncz`)).status).toBe(500);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'http handler failed', error: { message: 'boom' } });
    expect((await fetch(`${base}/ready`)).status).toBe(200);
  });

  it('answers 400 to a malformed request and keeps serving', async () => {
    const base = await serve(endpoints());
    const { port } = new URL(base);
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString();
      });
      socket.on('close', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect((await fetch(`${base}/ready`)).status).toBe(200);
  });
});

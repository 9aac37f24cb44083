/**
 * End to end with a real foreign client: a @grpc/grpc-js-xds client process,
 * bootstrapped through GRPC_XDS_BOOTSTRAP_CONFIG to an in-process
 * weft-discovery, resolves `xds:///echo.default.svc.cluster.local:7070`
 * (LDS API listener, RDS, CDS, EDS over ADS) and calls real @grpc/grpc-js
 * echo servers registered through a ServiceEntry and WorkloadEntries in a
 * watched config dir.
 */
import { createLogger } from '@weft/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DiscoveryServer, startDiscovery } from '../../src/index.ts';
import { getJson, getSyncz } from './fixtures/debug-http.ts';
import { type EchoServer, startEchoServer } from './fixtures/echo-server.ts';
import {
  type ConfigDir,
  createConfigDir,
  ECHO_HOST,
  ECHO_PORT,
  echoServiceEntry,
  echoSubsets,
  echoWeights,
  echoWorkload,
  waitFor,
} from './fixtures/mesh-config.ts';
import { startXdsClientProcess, type XdsClientProcess, xdsBootstrap } from './fixtures/xds-client.ts';

const CLIENT_NODE = {
  id: 'sidecar~127.0.0.1~echo-client.default~default.svc.cluster.local',
  metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' },
};

/** Share of the answers that came from `names`, in percent. */
function share(counts: Map<string, number>, names: readonly string[]): number {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const mine = names.reduce((n, name) => n + (counts.get(name) ?? 0), 0);
  return (100 * mine) / total;
}

describe('a @grpc/grpc-js-xds client against weft-discovery', () => {
  let config: ConfigDir;
  let discovery: DiscoveryServer;
  let client: XdsClientProcess;
  const echo: Record<string, EchoServer> = {};

  beforeAll(async () => {
    for (const name of ['v1-a', 'v1-b', 'v2-a']) echo[name] = await startEchoServer(name);
    config = await createConfigDir();
    await config.write('echo-service.yaml', echoServiceEntry());
    for (const [name, server] of Object.entries(echo)) {
      await config.write(
        `workload-${name}.yaml`,
        echoWorkload(`echo-${name}`, name.slice(0, 2), server.port),
      );
    }
    discovery = await startDiscovery({
      source: { kind: 'directory', dir: config.dir, debounceMs: 20 },
      debounceMs: 50,
      logger: createLogger({ name: 'weft-discovery', level: 'error' }),
    });
    client = startXdsClientProcess(
      `xds:///${ECHO_HOST}:${ECHO_PORT}`,
      xdsBootstrap(discovery.xdsAddress, CLIENT_NODE),
    );
  });

  afterAll(async () => {
    await client?.close();
    await discovery?.close();
    await Promise.all(Object.values(echo).map((s) => s.close()));
    await config?.cleanup();
  });

  it('resolves the service and spreads calls across every endpoint', async () => {
    await waitFor('the first call to succeed', () => client.succeeds(), 10_000);
    const counts = await client.count(300);
    expect([...counts.keys()].sort()).toEqual(['v1-a', 'v1-b', 'v2-a']);
    for (const n of counts.values()) expect(n).toBeGreaterThan(60);
  });

  it('moves traffic within 2 s of a config edit and honours an 80/20 subset split', async () => {
    const ackedRoutes = async () => (await getSyncz(discovery.httpAddress))[0]?.streams[0]?.types.RDS;
    const before = await ackedRoutes();
    expect(before?.state).toBe('SYNCED');
    await config.write('echo-routing.yaml', echoSubsets(['v1', 'v2']), echoWeights({ v1: 80, v2: 20 }));
    // The split is in place once the client has ACKed the new route configuration.
    const tookMs = await waitFor(
      'the client to ACK the weighted routes',
      async () => {
        const routes = await ackedRoutes();
        return routes?.state === 'SYNCED' && routes.ackedVersion !== before?.ackedVersion;
      },
      2000,
    );
    const counts = await client.count(2000);
    const v1 = share(counts, ['v1-a', 'v1-b']);
    expect(v1).toBeGreaterThanOrEqual(76);
    expect(v1).toBeLessThanOrEqual(84);
    expect(counts.get('v1-a')).toBeGreaterThan(400);
    expect(counts.get('v1-b')).toBeGreaterThan(400);
    expect(tookMs).toBeLessThan(2000);

    await config.write('echo-routing.yaml', echoSubsets(['v1', 'v2']), echoWeights({ v1: 0, v2: 100 }));
    await waitFor('all traffic on v2', async () => share(await client.count(50), ['v2-a']) === 100, 2000);
  });

  it('stops sending to an endpoint once its WorkloadEntry is removed', async () => {
    await config.write('echo-routing.yaml', echoSubsets(['v1', 'v2']), echoWeights({ v1: 100, v2: 0 }));
    await waitFor(
      'all traffic on v1',
      async () => share(await client.count(50), ['v1-a', 'v1-b']) === 100,
      2000,
    );
    await config.remove('workload-v1-b.yaml');
    await waitFor('v1-b to get no more calls', async () => !(await client.count(50)).has('v1-b'), 2000);
    const before = echo['v1-b']!.calls;
    const counts = await client.count(200);
    expect([...counts.keys()]).toEqual(['v1-a']);
    expect(echo['v1-b']!.calls).toBe(before);
  });

  it('keeps routing by the last good VirtualService while its file is invalid', async () => {
    const problems = () => getJson<{ total: number }>(discovery.httpAddress, '/debug/config_problems');
    // Both subsets are back, all traffic on v2; then the file turns invalid (a negative weight).
    await config.write('workload-v1-b.yaml', echoWorkload('echo-v1-b', 'v1', echo['v1-b']!.port));
    await config.write('echo-routing.yaml', echoSubsets(['v1', 'v2']), echoWeights({ v1: 0, v2: 100 }));
    await waitFor('all traffic on v2', async () => share(await client.count(50), ['v2-a']) === 100, 2000);
    await config.write('echo-routing.yaml', echoSubsets(['v1', 'v2']), echoWeights({ v1: -5, v2: 100 }));
    await waitFor('the problem to be reported', async () => (await problems()).total > 0, 2000);
    expect(share(await client.count(200), ['v2-a'])).toBe(100);

    await config.write('echo-routing.yaml', echoSubsets(['v1', 'v2']), echoWeights({ v1: 100, v2: 0 }));
    await waitFor(
      'the fix to apply',
      async () => share(await client.count(50), ['v1-a', 'v1-b']) === 100,
      2000,
    );
    expect((await problems()).total).toBe(0);
  });
});

/**
 * A client that NACKs: @weft/xds's ADS client rejects every Cluster response.
 * The server logs the NACK with the client's text, shows it on /debug/syncz
 * and in weft_discovery_nacks_total, keeps Listener updates flowing, and does
 * not send the rejected version again: the next CDS response it sends is for
 * a real config change.
 */
import { createLogger } from '@weft/telemetry';
import { type AdsClient, CLUSTER_TYPE_URL, createAdsClient, LISTENER_TYPE_URL } from '@weft/xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DiscoveryServer, startDiscovery } from '../../src/index.ts';
import { getJson, getSyncz } from './fixtures/debug-http.ts';
import {
  type ConfigDir,
  createConfigDir,
  ECHO_HOST,
  ECHO_PORT,
  echoServiceEntry,
  echoWorkload,
  otherServiceEntry,
  waitFor,
} from './fixtures/mesh-config.ts';

const NODE_ID = 'sidecar~127.0.0.1~nacker.default~default.svc.cluster.local';
const REJECTION = 'test client rejects every Cluster';

interface NackSeen {
  version: string;
  nonce: string;
}

describe.each(['sotw', 'delta'] as const)('a client that NACKs Clusters over %s ADS', (mode) => {
  let config: ConfigDir;
  let discovery: DiscoveryServer;
  let client: AdsClient;
  const logLines: Record<string, unknown>[] = [];
  const nacks: NackSeen[] = [];
  const clusterResponses: string[] = [];

  beforeAll(async () => {
    config = await createConfigDir();
    await config.write('echo.yaml', echoServiceEntry(), echoWorkload('echo-1', 'v1', 40001));
    discovery = await startDiscovery({
      source: { kind: 'directory', dir: config.dir, debounceMs: 20 },
      debounceMs: 20,
      logger: createLogger({
        name: 'weft-discovery',
        level: 'info',
        write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>),
      }),
    });
    client = createAdsClient({
      address: discovery.xdsAddress,
      mode,
      node: { id: NODE_ID, metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' } },
      validate: (typeUrl, _resources, context) => {
        if (typeUrl !== CLUSTER_TYPE_URL) return [];
        clusterResponses.push(context.version);
        return [REJECTION];
      },
      onNack: (_typeUrl, info) => nacks.push({ version: info.version, nonce: info.nonce }),
    });
    client.subscribe(LISTENER_TYPE_URL);
    client.subscribe(CLUSTER_TYPE_URL);
    client.start();
  });

  afterAll(async () => {
    client?.close();
    await discovery?.close();
    await config?.cleanup();
  });

  const syncz = () => getSyncz(discovery.httpAddress);

  it('logs the NACK with its text and shows it on syncz and in the metrics', async () => {
    await waitFor(
      'a NACK and the listener',
      () => nacks.length === 1 && client.version(LISTENER_TYPE_URL) !== '',
    );
    expect([...client.resources(LISTENER_TYPE_URL).keys()]).toEqual([`${ECHO_HOST}:${ECHO_PORT}`]);
    await waitFor('the NACK in the log', () =>
      logLines.some((l) => l.msg === 'proxy rejected config (NACK)'),
    );
    expect(logLines.find((l) => l.msg === 'proxy rejected config (NACK)')).toMatchObject({
      level: 'warn',
      nodeId: NODE_ID,
      type: 'CDS',
      error: REJECTION,
    });
    const [proxy] = await syncz();
    expect(proxy?.nodeId).toBe(NODE_ID);
    expect(proxy?.streams[0]?.types.CDS).toMatchObject({ state: 'NACKED', lastNack: { message: REJECTION } });
    expect(proxy?.streams[0]?.types.LDS).toMatchObject({ state: 'SYNCED' });
    const metrics = await (await fetch(`http://${discovery.httpAddress}/metrics`)).text();
    expect(metrics).toMatch(/weft_discovery_nacks_total\{type="cds"\} 1\b/);
    expect(metrics).toMatch(/weft_discovery_connected_proxies 1\b/);
    expect(metrics).toMatch(/weft_discovery_pushes_total\{type="lds"\} 1\b/);
    expect(metrics).toMatch(/weft_discovery_push_duration_seconds_count [1-9]/);
  });

  it('dumps exactly the resources the proxy was sent', async () => {
    const dump = await getJson<{
      nodeId: string;
      types: Record<string, { version: string; resources: { name: string }[] }>;
    }>(discovery.httpAddress, '/debug/config_dump?proxyID=nacker.default');
    expect(dump.nodeId).toBe(NODE_ID);
    expect(dump.types.LDS?.version).toBe(client.version(LISTENER_TYPE_URL));
    expect(dump.types.LDS?.resources.map((r) => r.name)).toEqual([
      ...client.resources(LISTENER_TYPE_URL).keys(),
    ]);
    expect(dump.types.LDS?.resources[0]).toMatchObject({
      '@type': LISTENER_TYPE_URL,
      apiListener: { apiListener: { '@type': expect.stringContaining('HttpConnectionManager') } },
    });
    expect(dump.types.CDS?.version).toBe(clusterResponses.at(-1));
  });

  it('keeps Listener updates flowing and sends Clusters again only for a new version', async () => {
    const listenerVersion = client.version(LISTENER_TYPE_URL);
    // A push that changes this proxy's endpoints but not its clusters must not resend the rejected CDS version.
    const pushBefore = (await syncz())[0]?.pushVersion;
    await config.write('unrelated.yaml', echoWorkload('echo-2', 'v1', 40002));
    await waitFor('the next push', async () => (await syncz())[0]?.pushVersion !== pushBefore);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(clusterResponses).toHaveLength(1);

    await config.write('other.yaml', otherServiceEntry());
    await waitFor('the new listener', () => client.version(LISTENER_TYPE_URL) !== listenerVersion);
    expect([...client.resources(LISTENER_TYPE_URL).keys()].sort()).toEqual([
      `${ECHO_HOST}:${ECHO_PORT}`,
      'other.default.svc.cluster.local:8080',
    ]);
    await waitFor('a second NACK', () => nacks.length === 2);
    expect(clusterResponses).toHaveLength(2);
    expect(clusterResponses[1]).not.toBe(clusterResponses[0]);
  });
});

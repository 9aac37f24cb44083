/**
 * DestinationRule and VirtualService policies end to end with the real
 * control plane: the built weft-discovery binary on Istio YAML, the built
 * weft-proxy in local mode, two node:http backends registered by
 * WorkloadEntries (127.0.0.2 and 127.0.0.3), one service per policy on
 * port 9080 so the policies do not interfere:
 *
 * - `ratings`: consistent hashing on a header, and mirroring to a subset;
 * - `details`: outlier detection (one 5xx ejects the host);
 * - `reviews`: connection-pool limits (circuit breaking, 503 UO).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, startBackend } from './support/harness.ts';
import {
  createMeshConfigDir,
  eventually,
  istio,
  type LocalMesh,
  type MeshConfigDir,
  sendThrough,
  startLocalMesh,
} from './support/processes.ts';

const PORT = 9080;
const LISTENER = `0.0.0.0_${PORT}`;
const SERVICES = ['ratings', 'details', 'reviews'] as const;
type ServiceName = (typeof SERVICES)[number];
const host = (service: ServiceName) => `${service}.default.svc.cluster.local`;

/** The service, its two WorkloadEntries (versions v1 on a, v2 on b) and its DestinationRule. */
function service(name: ServiceName, backends: { a: Backend; b: Backend }, trafficPolicy: unknown) {
  const entry = (version: string, backend: Backend, address: string) =>
    istio('WorkloadEntry', `${name}-${version}`, {
      address,
      ports: { http: backend.port },
      // Plain node:http backends: no sidecar, so no Istio mTLS to them.
      labels: { app: name, version, 'security.istio.io/tlsMode': 'disabled' },
    });
  return [
    istio('ServiceEntry', name, {
      hosts: [host(name)],
      location: 'MESH_INTERNAL',
      resolution: 'STATIC',
      ports: [{ number: PORT, name: 'http', protocol: 'HTTP' }],
      workloadSelector: { labels: { app: name } },
    }),
    entry('v1', backends.a, '127.0.0.2'),
    entry('v2', backends.b, '127.0.0.3'),
    istio('DestinationRule', name, {
      host: host(name),
      trafficPolicy,
      subsets: ['v1', 'v2'].map((v) => ({ name: v, labels: { version: v } })),
    }),
  ];
}

describe('DestinationRule and VirtualService policies through weft-discovery', () => {
  let config: MeshConfigDir;
  let mesh: LocalMesh;
  const backends = {} as { a: Backend; b: Backend };

  const send = async (name: ServiceName, path: string, headers: Record<string, string> = {}) => {
    const answer = await sendThrough(mesh.client, `${host(name)}:${PORT}`, path, headers);
    return { ...answer, overloaded: answer.headers['x-envoy-overloaded'] };
  };
  const received = (backend: Backend, path: string) => backend.requests.filter((r) => r.url === path);

  beforeAll(async () => {
    backends.a = await startBackend('a', '127.0.0.2');
    backends.b = await startBackend('b', '127.0.0.3');
    config = await createMeshConfigDir();
    await config.write(
      'ratings.yaml',
      ...service('ratings', backends, { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } }),
      istio('VirtualService', 'ratings', {
        hosts: [host('ratings')],
        http: [
          {
            match: [{ uri: { prefix: '/mirror' } }],
            route: [{ destination: { host: host('ratings'), subset: 'v1' } }],
            mirror: { host: host('ratings'), subset: 'v2' },
            mirrorPercentage: { value: 100 },
          },
          { route: [{ destination: { host: host('ratings') } }] },
        ],
      }),
    );
    await config.write(
      'details.yaml',
      ...service('details', backends, {
        outlierDetection: {
          consecutive5xxErrors: 1,
          interval: '1s',
          baseEjectionTime: '60s',
          maxEjectionPercent: 100,
        },
      }),
      // No retries: the client sees the 503 that ejects the host.
      istio('VirtualService', 'details', {
        hosts: [host('details')],
        http: [{ retries: { attempts: 0 }, route: [{ destination: { host: host('details') } }] }],
      }),
    );
    await config.write(
      'reviews.yaml',
      ...service('reviews', backends, {
        connectionPool: { http: { http2MaxRequests: 1, http1MaxPendingRequests: 1 } },
      }),
      istio('VirtualService', 'reviews', {
        hosts: [host('reviews')],
        http: [
          { retries: { attempts: 0 }, route: [{ destination: { host: host('reviews'), subset: 'v1' } }] },
        ],
      }),
    );
    mesh = await startLocalMesh(config.dir, LISTENER, 32);
    await eventually('every service to route', async () => {
      const answers = await Promise.all(SERVICES.map((name) => send(name, '/ready')));
      return answers.every((a) => a.status === 200);
    });
  }, 30_000);

  afterAll(async () => {
    await mesh?.close();
    await Promise.all(Object.values(backends).map((b) => b.close()));
    await config?.cleanup();
  });

  it('sends every request of one x-user to the same backend (consistent hash)', async () => {
    const byUser = new Map<string, Set<string>>();
    for (let user = 0; user < 20; user++) {
      for (let i = 0; i < 5; i++) {
        const answer = await send('ratings', '/hash', { 'x-user': `user-${user}` });
        expect(answer.status).toBe(200);
        const seen = byUser.get(`user-${user}`) ?? new Set<string>();
        seen.add(answer.backend ?? 'none');
        byUser.set(`user-${user}`, seen);
      }
    }
    for (const seen of byUser.values()) expect(seen.size).toBe(1);
    const served = new Set([...byUser.values()].flatMap((seen) => [...seen]));
    expect([...served].sort()).toEqual(['a', 'b']);
  });

  it('mirrors requests to the v2 subset with a -shadow authority, answering from v1', async () => {
    const answer = await send('ratings', '/mirror');
    expect(answer).toMatchObject({ status: 200, backend: 'a' });
    await eventually(
      'the shadow copy to arrive',
      async () => received(backends.b, '/mirror').length === 1,
      5000,
    );
    expect(received(backends.b, '/mirror')[0]!.headers.host).toBe(`${host('ratings')}-shadow:${PORT}`);
    expect(received(backends.a, '/mirror')).toHaveLength(1);
  });

  it('ejects a host after a 5xx (outlier detection): later requests all go to the other', async () => {
    backends.a.statuses.push(503);
    let failures = 0;
    for (let i = 0; i < 20 && failures === 0; i++) {
      const answer = await send('details', '/outlier');
      if (answer.status === 503) failures++;
    }
    expect(failures).toBe(1);
    const later = await Promise.all(Array.from({ length: 40 }, () => send('details', '/outlier-after')));
    expect(later.every((a) => a.status === 200 && a.backend === 'b')).toBe(true);
    expect(received(backends.a, '/outlier-after')).toHaveLength(0);
  });

  it('answers 503 with x-envoy-overloaded beyond the connection-pool limits (circuit breaker)', async () => {
    backends.a.delays.push(...Array.from({ length: 10 }, () => 300));
    const answers = await Promise.all(Array.from({ length: 10 }, () => send('reviews', '/breaker')));
    const overloaded = answers.filter((a) => a.status === 503 && a.overloaded === 'true');
    const served = answers.filter((a) => a.status === 200);
    expect(served.length).toBeGreaterThanOrEqual(1);
    expect(served.length).toBeLessThanOrEqual(2);
    expect(overloaded.length).toBe(10 - served.length);
    expect(received(backends.a, '/breaker').length).toBe(served.length);
    backends.a.delays.length = 0;
  });
});

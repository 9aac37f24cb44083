/**
 * The sidecar-pair targets of proxy-bench.ts, as Istio measures a mesh:
 * load -> client weft-proxy (outbound listener) -> server weft-proxy
 * (inbound listener) -> backend, all built binaries on loopback, configured
 * by the built weft-discovery from a generated config dir, identities from
 * the built weft-ca.
 *
 * - pair mTLS: service `reviews`, WorkloadEntry on 127.0.0.2 labelled
 *   `security.istio.io/tlsMode: istio`, PeerAuthentication STRICT on it; the
 *   client proxy originates ISTIO_MUTUAL (auto mTLS).
 * - pair plaintext: service `ratings`, WorkloadEntry on 127.0.0.4 labelled
 *   `security.istio.io/tlsMode: disabled` (weft-discovery treats an
 *   unlabelled MESH_INTERNAL workload as a sidecar, so mTLS), and
 *   PeerAuthentication DISABLE on it.
 *
 * Each pair has its own client and server proxy (both with identities,
 * metrics on, access log off), so a pair's CPU and RSS are its own. Before
 * measuring, one request through each pair checks what crossed the wire:
 * the backend saw `x-forwarded-client-cert` behind the mTLS pair and not
 * behind the plaintext one, and the STRICT port refuses plaintext.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { type CaProcess, istioObject, startCaProcess, writeConfig } from '../test/security/mesh-fixture.ts';
import { createMeshConfigDir, freePort, startDiscoveryProcess } from '../test/support/processes.ts';
import { BENCH_PATH } from './bench-protocols.ts';
import { spawnWeftProxy, type Target, type WeftProcess } from './bench-target.ts';
import { type Backend, backendOf, message } from './proxy-targets.ts';

const here = dirname(fileURLToPath(import.meta.url));

export type PairKind = 'mtls' | 'plain';

interface PairLayout {
  readonly kind: PairKind;
  readonly service: string;
  readonly servicePort: number;
  readonly serverIp: string;
  readonly appIp: string;
  readonly clientIp: string;
  readonly clientWorkload: string;
  readonly tlsMode: 'istio' | 'disabled';
  readonly peerAuthentication: 'STRICT' | 'DISABLE';
}

const LAYOUTS: Record<PairKind, PairLayout> = {
  mtls: {
    kind: 'mtls',
    service: 'reviews',
    servicePort: 9080,
    serverIp: '127.0.0.2',
    appIp: '127.0.1.2',
    clientIp: '127.0.0.3',
    clientWorkload: 'productpage-v1',
    tlsMode: 'istio',
    peerAuthentication: 'STRICT',
  },
  plain: {
    kind: 'plain',
    service: 'ratings',
    servicePort: 9081,
    serverIp: '127.0.0.4',
    appIp: '127.0.1.4',
    clientIp: '127.0.0.5',
    clientWorkload: 'productpage-v2',
    tlsMode: 'disabled',
    peerAuthentication: 'DISABLE',
  },
};

const hostOf = (layout: PairLayout) => `${layout.service}.default.svc.cluster.local`;

function pairConfig(layout: PairLayout, workloadPort: number) {
  const labels = {
    app: layout.service,
    ...(layout.tlsMode ? { 'security.istio.io/tlsMode': layout.tlsMode } : {}),
  };
  return [
    istioObject('ServiceEntry', layout.service, {
      hosts: [hostOf(layout)],
      location: 'MESH_INTERNAL',
      resolution: 'STATIC',
      ports: [{ number: layout.servicePort, name: 'http', protocol: 'HTTP', targetPort: workloadPort }],
      workloadSelector: { labels: { app: layout.service } },
    }),
    istioObject('WorkloadEntry', `${layout.service}-v1`, {
      address: layout.serverIp,
      ports: { http: workloadPort },
      serviceAccount: layout.service,
      labels,
    }),
    istioObject('PeerAuthentication', layout.service, {
      selector: { matchLabels: { app: layout.service } },
      mtls: { mode: layout.peerAuthentication },
    }),
  ];
}

async function forkBackend(address: string, port: number): Promise<Backend> {
  const child = fork(join(here, 'backend-child.ts'), [address, String(port), 'http1']);
  await message<number>(child, 'port').catch((error: unknown) => {
    throw new Error(`backend on ${address}:${port}: ${String(error)}`);
  });
  return backendOf('http1', child, port);
}

export interface PairMesh {
  readonly targets: readonly Target[];
  stop(): Promise<void>;
}

/**
 * Starts weft-ca, weft-discovery and, per kind, a backend and a client and
 * server proxy; resolves once a request crosses every pair with the
 * expected wire security. `profileDir` runs the mTLS pair's proxies under
 * `--cpu-prof`.
 */
export async function startPairs(kinds: readonly PairKind[], profileDir?: string): Promise<PairMesh> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const workDir = await mkdtemp(join(tmpdir(), 'weft-bench-pair-'));
    cleanups.push(() => rm(workDir, { recursive: true, force: true }));
    const ca = await startCaProcess(['--cert-ttl', '1h']);
    cleanups.push(() => ca.stop());
    const config = await createMeshConfigDir();
    cleanups.push(() => config.cleanup());
    const layouts = kinds.map((kind) => LAYOUTS[kind]);
    const workloadPorts = new Map<PairKind, number>();
    for (const layout of layouts) workloadPorts.set(layout.kind, await freePort(layout.serverIp));
    await writeConfig(
      config.dir,
      'bench.yaml',
      layouts.flatMap((layout) => pairConfig(layout, workloadPorts.get(layout.kind)!)),
    );
    const discovery = await startDiscoveryProcess(config.dir);
    cleanups.push(() => discovery.stop());
    const targets: Target[] = [];
    for (const layout of layouts) {
      const workloadPort = workloadPorts.get(layout.kind)!;
      const backend = await forkBackend(layout.appIp, workloadPort);
      cleanups.push(async () => {
        backend.child.kill();
      });
      const proxy = async (workload: string, serviceAccount: string, ip: string, extra: string[]) => {
        const tokenFile = join(workDir, `${workload}.token`);
        await writeFile(tokenFile, await ca.token('default', serviceAccount));
        const started = await spawnWeftProxy(
          workload,
          [
            ...identityArgs(ca, tokenFile, serviceAccount),
            '--discovery',
            discovery.xdsAddress,
            '--workload',
            workload,
            '--namespace',
            'default',
            '--ip',
            ip,
            '--listener',
            'virtualOutbound=127.0.0.1:0',
            '--listener',
            'virtualInbound=127.0.0.1:0',
            ...extra,
          ],
          layout.kind === 'mtls' ? profileDir : undefined,
        );
        cleanups.push(() => started.stop());
        return started;
      };
      const server: WeftProcess = await proxy(`${layout.service}-v1`, layout.service, layout.serverIp, [
        '--metadata',
        `LOCAL_APP_ADDRESS=${layout.appIp}`,
        // The pod's labels, as Istio's sidecar sends them: the PeerAuthentication selector matches on them.
        '--label',
        `app=${layout.service}`,
      ]);
      const outboundPort = await freePort();
      const client = await proxy(layout.clientWorkload, 'productpage', layout.clientIp, [
        '--label',
        'app=productpage',
        '--listener',
        `0.0.0.0_${layout.servicePort}=127.0.0.1:${outboundPort}`,
      ]);
      const target: Target = {
        name: layout.kind === 'mtls' ? 'pair mTLS (STRICT)' : 'pair plaintext',
        protocol: 'http1',
        kind: 'pair',
        port: outboundPort,
        host: `${hostOf(layout)}:${layout.servicePort}`,
        pids: [client.pid, server.pid],
        served: backend.served,
        upstreamRequests: async () => [await client.upstreamRequests(), await server.upstreamRequests()],
        stop: async () => {},
      };
      await checkWire(target, layout, workloadPort);
      targets.push(target);
    }
    return { targets, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function identityArgs(ca: CaProcess, tokenFile: string, serviceAccount: string): string[] {
  return [
    '--ca-addr',
    ca.address,
    '--token-file',
    tokenFile,
    '--ca-root-file',
    ca.rootFile,
    '--service-account',
    serviceAccount,
  ];
}

/** One request through the pair (retried while config and certificates arrive), then the wire checks. */
async function checkWire(target: Target, layout: PairLayout, workloadPort: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = 'no answer';
  for (;;) {
    const answer = await request(`http://127.0.0.1:${target.port}${BENCH_PATH}`, {
      headers: { host: target.host },
    }).then(
      async (response) => {
        await response.body.dump();
        return { status: response.statusCode, xfcc: response.headers['x-bench-xfcc'] === '1' };
      },
      (error: unknown) => ({ status: 0, xfcc: false, error: String(error) }),
    );
    if (answer.status === 200) {
      if (answer.xfcc !== (layout.kind === 'mtls')) {
        throw new Error(
          `${target.name}: the backend ${answer.xfcc ? 'saw' : 'did not see'} a client certificate`,
        );
      }
      break;
    }
    last = `status ${answer.status}`;
    if (Date.now() > deadline) throw new Error(`${target.name}: no 200 through the pair in 20 s (${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (layout.peerAuthentication !== 'STRICT') return;
  const plaintext = await request(`http://${layout.serverIp}:${workloadPort}/`, {
    headers: { host: target.host },
    headersTimeout: 5000,
  }).then(
    async (response) => {
      await response.body.dump();
      return response.statusCode;
    },
    () => 0,
  );
  if (plaintext !== 0)
    throw new Error(`${target.name}: the STRICT port answered plaintext with ${plaintext}`);
}

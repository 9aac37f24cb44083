/**
 * A zero-trust mesh on loopback for the security e2e tests: the built
 * weft-ca binary (local tokens minted with `weft-ca token`), the built
 * weft-discovery binary watching a dir of Istio YAML, and built weft-proxy
 * processes with identities (--ca-addr, --token-file, --ca-root-file).
 *
 * Layout (local mode): the server workload `reviews` is a WorkloadEntry on
 * 127.0.0.2:PORT (where its proxy binds `inbound_127.0.0.2_PORT`); the
 * application listens on 127.0.1.2:PORT (LOCAL_APP_ADDRESS). Client proxies
 * bind the outbound listener `0.0.0.0_9080` on an ephemeral loopback port;
 * client apps send HTTP there with Host reviews.default.svc.cluster.local.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request } from 'undici';
import { freePort, PROXY_BIN, stopChild } from '../support/processes.ts';

const appsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CA_BIN = join(appsDir, 'ca', 'dist', 'main.js');
export const SERVICE_HOST = 'reviews.default.svc.cluster.local';
export const SERVICE_PORT = 9080;
export const SERVER_IP = '127.0.0.2';
export const APP_IP = '127.0.1.2';

export interface CaProcess {
  readonly address: string;
  readonly stateDir: string;
  readonly rootFile: string;
  /** Mints a local-mode token for NS/SA (`weft-ca token`). */
  token(namespace: string, serviceAccount: string): Promise<string>;
  stop(): Promise<void>;
}

/** Spawns weft-ca on ephemeral ports; resolves once it logs `weft-ca serving`. */
export async function startCaProcess(extraArgs: readonly string[] = []): Promise<CaProcess> {
  const stateDir = await mkdtemp(join(tmpdir(), 'weft-ca-e2e-'));
  const child = spawn(
    process.execPath,
    [
      CA_BIN,
      '--state-dir',
      stateDir,
      '--grpc-addr',
      '127.0.0.1:0',
      '--http-addr',
      '127.0.0.1:0',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const address = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`weft-ca not serving in 15 s: ${buffered}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`weft-ca exited ${code}: ${buffered}`)));
    child.stderr?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n')) {
        if (!line.includes('"msg":"weft-ca serving"')) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { grpc: string }).grpc);
      }
    });
  });
  child.stderr?.resume();
  return {
    address,
    stateDir,
    rootFile: join(stateDir, 'root-cert.pem'),
    token: async (namespace, serviceAccount) => {
      const { stdout } = await promisify(execFile)(process.execPath, [
        CA_BIN,
        'token',
        '--state-dir',
        stateDir,
        '--namespace',
        namespace,
        '--service-account',
        serviceAccount,
        '--ttl',
        '1h',
      ]);
      return stdout.trim();
    },
    stop: async () => {
      await stopChild(child);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

export interface MeshProxy {
  readonly child: ChildProcess;
  readonly admin: string;
  /** The outbound listener's port (client proxies). */
  readonly outboundPort: number | undefined;
  /** Everything the proxy wrote to stderr so far (JSON log lines). */
  logs(): string;
  adminGet(path: string): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

export interface MeshProxyOptions {
  readonly discovery: string;
  readonly ca: CaProcess;
  readonly workload: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly ip: string;
  /** Bind the outbound listener of the service port here (clients). */
  readonly outbound?: boolean;
  readonly extraArgs?: readonly string[];
  readonly workDir: string;
}

/** Spawns a weft-proxy with an identity; resolves once /ready answers 200. */
export async function startMeshProxy(options: MeshProxyOptions): Promise<MeshProxy> {
  const adminPort = await freePort();
  const outboundPort = options.outbound ? await freePort() : undefined;
  const tokenFile = join(options.workDir, `${options.workload}.token`);
  await writeFile(tokenFile, await options.ca.token(options.namespace, options.serviceAccount));
  const args = [
    PROXY_BIN,
    '--discovery',
    options.discovery,
    '--workload',
    options.workload,
    '--namespace',
    options.namespace,
    '--ip',
    options.ip,
    '--admin-addr',
    `127.0.0.1:${adminPort}`,
    '--drain-time',
    '300',
    '--ca-addr',
    options.ca.address,
    '--token-file',
    tokenFile,
    '--ca-root-file',
    options.ca.rootFile,
    '--service-account',
    options.serviceAccount,
    '--log-level',
    'debug',
    '--listener',
    'virtualOutbound=127.0.0.1:0',
    '--listener',
    'virtualInbound=127.0.0.1:0',
    ...(outboundPort ? ['--listener', `0.0.0.0_${SERVICE_PORT}=127.0.0.1:${outboundPort}`] : []),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    logs += chunk.toString();
  });
  const admin = `127.0.0.1:${adminPort}`;
  const adminGet = async (path: string) => {
    const response = await request(`http://${admin}${path}`);
    return { status: response.statusCode, body: await response.body.text() };
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`weft-proxy ${options.workload} exited: ${logs}`);
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`weft-proxy ${options.workload} not ready in 20 s: ${logs.slice(-4000)}`);
    }
    const ready = await adminGet('/ready').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    admin,
    outboundPort,
    logs: () => logs,
    adminGet,
    stop: async () => {
      await stopChild(child);
    },
  };
}

/** What the server application saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface ServerApp {
  readonly port: number;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

/** The `reviews` application on APP_IP:port: echoes what it saw as JSON. */
export async function startServerApp(port: number): Promise<ServerApp> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    seen.push(entry);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(entry));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, APP_IP, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: unknown };

/** An Istio object (security.istio.io for policies, networking.istio.io otherwise). */
export function istioObject(kind: string, name: string, spec: unknown, namespace = 'default'): Doc {
  const group = ['PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication'].includes(kind)
    ? 'security.istio.io/v1'
    : 'networking.istio.io/v1';
  return { apiVersion: group, kind, metadata: { name, namespace }, spec };
}

/** The reviews service: a ServiceEntry and its one WorkloadEntry (mTLS-capable, service account reviews). */
export function reviewsService(workloadPort: number): Doc[] {
  return [
    istioObject('ServiceEntry', 'reviews', {
      hosts: [SERVICE_HOST],
      location: 'MESH_INTERNAL',
      resolution: 'STATIC',
      ports: [{ number: SERVICE_PORT, name: 'http', protocol: 'HTTP', targetPort: workloadPort }],
      workloadSelector: { labels: { app: 'reviews' } },
    }),
    istioObject('WorkloadEntry', 'reviews-v1', {
      address: SERVER_IP,
      ports: { http: workloadPort },
      serviceAccount: 'reviews',
      labels: { app: 'reviews', version: 'v1', 'security.istio.io/tlsMode': 'istio' },
    }),
  ];
}

/** Writes Istio objects as one YAML stream (JSON documents are YAML). */
export async function writeConfig(dir: string, file: string, docs: readonly Doc[]): Promise<void> {
  await writeFile(join(dir, file), docs.map((d) => JSON.stringify(d)).join('\n---\n'));
}

export { readFile };

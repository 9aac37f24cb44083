/**
 * Child processes for e2e tests that cross the app boundary: the built
 * weft-discovery binary (apps cannot import each other; spawning is the
 * contract) and the built weft-proxy binary, each on loopback ports, plus
 * an Istio config dir the discovery server watches.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';

const appsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DISCOVERY_BIN = join(appsDir, 'discovery', 'dist', 'main.js');
export const PROXY_BIN = join(appsDir, 'proxy', 'dist', 'main.js');

/** A loopback port nobody listens on right now. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, host, resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Sends SIGTERM and waits (bounded) for the exit; SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

export interface DiscoveryProcess {
  readonly xdsAddress: string;
  readonly httpAddress: string;
  stop(): Promise<void>;
}

/** Spawns weft-discovery on `configDir` with ephemeral ports; resolves once it logs `ready`. */
export async function startDiscoveryProcess(configDir: string): Promise<DiscoveryProcess> {
  const child = spawn(
    process.execPath,
    [
      DISCOVERY_BIN,
      '--config-dir',
      configDir,
      '--xds-addr',
      '127.0.0.1:0',
      '--http-addr',
      '127.0.0.1:0',
      '--debounce',
      '20',
      '--log-level',
      'info',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const ready = await new Promise<{ xdsAddress: string; httpAddress: string }>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => reject(new Error(`weft-discovery not ready in 15 s: ${buffered}`)),
      15_000,
    );
    child.once('exit', (code) => reject(new Error(`weft-discovery exited ${code}: ${buffered}`)));
    child.stderr?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n')) {
        if (!line.includes('"msg":"ready"')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { xdsAddress: string; httpAddress: string });
      }
      if (buffered.length > 65_536) buffered = buffered.slice(-4096);
    });
  });
  // Keep draining stderr so the child never blocks on a full pipe.
  child.stderr?.resume();
  return {
    xdsAddress: ready.xdsAddress,
    httpAddress: ready.httpAddress,
    stop: async () => {
      await stopChild(child);
    },
  };
}

export interface ProxyProcess {
  readonly child: ChildProcess;
  /** `127.0.0.1:PORT` of the admin server. */
  readonly admin: string;
  /** Local-mode listener ports by LDS listener name. */
  readonly ports: ReadonlyMap<string, number>;
  /** GET on the admin server: status and body text. */
  adminGet(path: string): Promise<{ status: number; body: string }>;
  stop(): Promise<number | null>;
}

export interface ProxyProcessOptions {
  readonly discovery: string;
  readonly workload: string;
  /** LDS listener names to bind on a fresh loopback port each (local mode). */
  readonly listeners: readonly string[];
  readonly extraArgs?: readonly string[];
}

/**
 * Spawns weft-proxy against `discovery` in local mode: every named listener
 * on its own loopback port, the capture listeners (15001/15006) moved to
 * ephemeral loopback ports so several proxies fit on one machine. Resolves
 * once `/ready` answers 200.
 */
export async function startProxyProcess(options: ProxyProcessOptions): Promise<ProxyProcess> {
  const adminPort = await freePort();
  const ports = new Map<string, number>();
  for (const name of options.listeners) ports.set(name, await freePort());
  const listenerArgs = [
    ...[...ports].flatMap(([name, port]) => ['--listener', `${name}=127.0.0.1:${port}`]),
    ...['virtualOutbound', 'virtualInbound']
      .filter((name) => !ports.has(name))
      .flatMap((name) => ['--listener', `${name}=127.0.0.1:0`]),
  ];
  const child = spawn(
    process.execPath,
    [
      PROXY_BIN,
      '--discovery',
      options.discovery,
      '--workload',
      options.workload,
      '--namespace',
      'default',
      '--admin-addr',
      `127.0.0.1:${adminPort}`,
      '--drain-time',
      '500',
      '--log-level',
      'warn',
      ...listenerArgs,
      ...(options.extraArgs ?? []),
    ],
    { stdio: 'ignore' },
  );
  const admin = `127.0.0.1:${adminPort}`;
  const adminGet = async (path: string) => {
    const response = await request(`http://${admin}${path}`);
    return { status: response.statusCode, body: await response.body.text() };
  };
  let ready = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!ready) {
    if (child.exitCode !== null) throw new Error(`weft-proxy exited ${child.exitCode} before ready`);
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error('weft-proxy not ready in 15 s');
    }
    ready = await adminGet('/ready').then(
      (r) => r.status === 200,
      () => false,
    );
    if (!ready) await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
  }
  return { child, admin, ports, adminGet, stop: () => stopChild(child) };
}

type IstioObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: unknown;
};

/** An Istio networking object in the default namespace. */
export function istio(kind: string, name: string, spec: unknown): IstioObject {
  return { apiVersion: 'networking.istio.io/v1', kind, metadata: { name, namespace: 'default' }, spec };
}

export interface MeshConfigDir {
  readonly dir: string;
  /** Writes (or replaces) `file` with the objects as YAML documents (JSON is YAML). */
  write(file: string, ...objects: IstioObject[]): Promise<void>;
  remove(file: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function createMeshConfigDir(): Promise<MeshConfigDir> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-proxy-mesh-'));
  return {
    dir,
    write: (file, ...objects) =>
      writeFile(join(dir, file), objects.map((o) => JSON.stringify(o)).join('\n---\n')),
    remove: (file) => unlink(join(dir, file)),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Polls an async probe until it holds (bounded). */
export async function eventually(
  description: string,
  probe: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  let holds = false;
  const deadline = Date.now() + timeoutMs;
  while (!holds) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    holds = await probe().catch(() => false);
    if (!holds) await new Promise((r) => setTimeout(r, 25));
  }
}

export interface LocalMesh {
  readonly discovery: DiscoveryProcess;
  readonly proxy: ProxyProcess;
  /** Keep-alive client to the proxy's local-mode listener. */
  readonly client: Pool;
  /** Stops the client, the proxy and weft-discovery (the caller owns backends and the config dir). */
  close(): Promise<void>;
}

/**
 * weft-discovery on `configDir` and one weft-proxy (workload `productpage`)
 * binding `listener` on loopback, with a client to it.
 */
export async function startLocalMesh(
  configDir: string,
  listener: string,
  connections = 16,
): Promise<LocalMesh> {
  const discovery = await startDiscoveryProcess(configDir);
  const proxy = await startProxyProcess({
    discovery: discovery.xdsAddress,
    workload: 'productpage',
    listeners: [listener],
  }).catch(async (error: unknown) => {
    await discovery.stop();
    throw error;
  });
  const client = new Pool(`http://127.0.0.1:${proxy.ports.get(listener)}`, { connections });
  return {
    discovery,
    proxy,
    client,
    close: async () => {
      await client.close();
      await proxy.stop();
      await discovery.stop();
    },
  };
}

export interface MeshAnswer {
  readonly status: number;
  /** The `x-backend` that served it (test backends name themselves), if any. */
  readonly backend: string | undefined;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly ms: number;
}

/** One GET through `client` with `host` as Host. */
export async function sendThrough(
  client: Pool,
  host: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<MeshAnswer> {
  const started = performance.now();
  const response = await client.request({ method: 'GET', path, headers: { host, ...headers } });
  await response.body.text();
  const servedBy = response.headers['x-backend'];
  return {
    status: response.statusCode,
    backend: typeof servedBy === 'string' ? servedBy : undefined,
    headers: response.headers,
    ms: performance.now() - started,
  };
}

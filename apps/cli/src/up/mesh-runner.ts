/**
 * Starts the planned mesh as child processes, in dependency order, each
 * waited for before the next step: weft-ca (and one token per service
 * account), weft-discovery, each workload's app and sidecar, the gateways.
 * The binaries are the apps' built `dist/main.js`, found through
 * node_modules like any installed package (apps do not import each other).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConfigMirror, startConfigMirror } from './config-mirror.ts';
import { type MeshPlan, outboundAddress, SIDECAR_ADMIN_PORT, SIDECAR_STATS_PORT } from './mesh-plan.ts';
import { type ChildEvent, createSupervisor, type Supervisor } from './supervisor.ts';

/** A failure to bring the mesh up; `code` says which step. */
export class MeshStartError extends Error {
  readonly code: 'binary' | 'ca' | 'token' | 'discovery' | 'proxy' | 'gateway' | 'config';
  constructor(code: MeshStartError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MeshStartError';
    this.code = code;
  }
}

export interface RunnerOptions {
  readonly configDir: string;
  readonly app: string;
  readonly gatewayPort: number;
  readonly stateDir: string;
  /** Run without identities even when weft-proxy could get them. */
  readonly plaintext: boolean;
  /** Proxies print their spans (to their logs). */
  readonly traceConsole: boolean;
  readonly onEvent: (event: ChildEvent) => void;
  /** Progress lines while starting. */
  readonly progress: (line: string) => void;
}

export interface RunningProxy {
  readonly name: string;
  readonly kind: 'sidecar' | 'gateway';
  /** `http://HOST:PORT` of its admin (`/stats/prometheus`, `/config_dump`, ...). */
  readonly adminUrl: string;
  readonly logFile: string;
}

export interface RunningMesh {
  readonly plan: MeshPlan;
  readonly stateDir: string;
  readonly logDir: string;
  readonly caUrl: string;
  readonly discoveryUrl: string;
  readonly gatewayUrl: string;
  readonly proxies: readonly RunningProxy[];
  /** True when the proxies have workload identities (mTLS); false: identity kinds were left out. */
  readonly meshIdentity: boolean;
  /** Identity documents left out because the proxies have no identity. */
  readonly leftOut: readonly string[];
  /** Where discovery reads config (the directory itself, or its filtered mirror). */
  readonly servedConfigDir: string;
  readonly supervisor: Supervisor;
  stop(): Promise<void>;
}

/** `node_modules/PACKAGE/dist/main.js` from here upwards, or undefined. */
export function findBinary(pkg: string, from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', pkg, 'dist', 'main.js');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** A free TCP port on `host` (bound and released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet) => {
    const request = http.get(url, { timeout: 2000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () =>
        resolveGet({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', () => resolveGet({ status: 0, body: '' }));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolveGet({ status: 0, body: '' }));
  });
}

/** Polls until `accept` holds for a GET of `url`; false after `timeoutMs`. */
export async function waitFor(
  url: string,
  accept: (reply: { status: number; body: string }) => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (accept(await get(url))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** The scrape of one proxy's `/stats/prometheus` ('' when it does not answer). */
export async function scrape(proxy: RunningProxy): Promise<string> {
  const reply = await get(`${proxy.adminUrl}/stats/prometheus`);
  return reply.status === 200 ? reply.body : '';
}

/** Proxies drain in-flight requests this long on stop: a local mesh should stop at once. */
const PROXY_DRAIN_MS = 1000;

const ok = (reply: { status: number }) => reply.status === 200;

function binaries(): { ca: string; discovery: string; proxy: string } {
  const ca = findBinary('weft-ca');
  const discovery = findBinary('weft-discovery');
  const proxy = findBinary('weft-proxy');
  const missing = [!ca && 'weft-ca', !discovery && 'weft-discovery', !proxy && 'weft-proxy'].filter(Boolean);
  if (missing.length > 0)
    throw new MeshStartError(
      'binary',
      `not built: ${missing.join(', ')} (node_modules/NAME/dist/main.js missing); run "npx nx run-many -t build" first`,
    );
  return { ca: ca!, discovery: discovery!, proxy: proxy! };
}

/** Runs `weft-ca token` and resolves to the token (trimmed). */
function mintToken(
  caBinary: string,
  caDir: string,
  namespace: string,
  serviceAccount: string,
): Promise<string> {
  return new Promise((resolveToken, reject) => {
    execFile(
      process.execPath,
      [
        caBinary,
        'token',
        '--state-dir',
        caDir,
        '--namespace',
        namespace,
        '--service-account',
        serviceAccount,
      ],
      { encoding: 'utf8', timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(stderr.trim() || error.message));
        else resolveToken(stdout.trim());
      },
    );
  });
}

/** True when this weft-proxy can get a workload identity from the CA (its --help has --ca-addr). */
export function proxyHasIdentity(proxyBinary: string): Promise<boolean> {
  return new Promise((resolveProbe) => {
    execFile(
      process.execPath,
      [proxyBinary, '--help'],
      { encoding: 'utf8', timeout: 10_000 },
      (_error, stdout) => resolveProbe((stdout ?? '').includes('--ca-addr')),
    );
  });
}

/** Starts everything in `plan`; on failure stops what it started and throws MeshStartError. */
export async function startMesh(plan: MeshPlan, options: RunnerOptions): Promise<RunningMesh> {
  const bin = binaries();
  if (!existsSync(options.app))
    throw new MeshStartError('binary', `the demo app ${options.app} does not exist (--app)`);
  const stateDir = resolve(options.stateDir);
  const logDir = join(stateDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const supervisor = createSupervisor({ onEvent: options.onEvent });
  let mirror: ConfigMirror | undefined;
  const stop = async () => {
    mirror?.close();
    await supervisor.stop();
  };
  try {
    const identityProbe = options.plaintext ? Promise.resolve(false) : proxyHasIdentity(bin.proxy);
    const log = (name: string) => join(logDir, `${name}.log`);

    // weft-ca and one token per service account.
    const [caGrpc, caHttp, xds, discoveryHttp, gatewayAdmin] = await Promise.all(
      Array.from({ length: 5 }, () => freePort()),
    );
    const caDir = join(stateDir, 'ca');
    const caUrl = `http://127.0.0.1:${caHttp}`;
    options.progress(`starting weft-ca on 127.0.0.1:${caGrpc}`);
    supervisor.start({
      name: 'weft-ca',
      args: [
        bin.ca,
        '--state-dir',
        caDir,
        '--grpc-addr',
        `127.0.0.1:${caGrpc}`,
        '--http-addr',
        `127.0.0.1:${caHttp}`,
      ],
      logFile: log('weft-ca'),
    });
    // The CA's start-up and the tokens overlap with discovery's start.
    const caReady = (async () => {
      if (!(await waitFor(`${caUrl}/ready`, ok, 20_000)))
        throw new MeshStartError('ca', `weft-ca did not become ready; see ${log('weft-ca')}`);
      const tokenDir = join(stateDir, 'tokens');
      await mkdir(tokenDir, { recursive: true });
      const tokens = new Map<string, string>();
      const accounts = [...plan.workloads, ...plan.gateways];
      const unique = [...new Map(accounts.map((w) => [`${w.namespace}/${w.serviceAccount}`, w])).values()];
      // Minted in parallel: each is a Node start-up of weft-ca token.
      await Promise.all(
        unique.map(async (w) => {
          const key = `${w.namespace}/${w.serviceAccount}`;
          const file = join(tokenDir, `${w.namespace}.${w.serviceAccount}.jwt`);
          const token = await mintToken(bin.ca, caDir, w.namespace, w.serviceAccount).catch(
            (error: Error) => {
              throw new MeshStartError('token', `weft-ca token for ${key} failed: ${error.message}`, {
                cause: error,
              });
            },
          );
          await writeFile(file, token, { mode: 0o600 });
          tokens.set(key, file);
        }),
      );
      return tokens;
    })();
    caReady.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    const meshIdentity = await identityProbe;

    // weft-discovery on the directory (or its filtered mirror while proxies have no identity).
    let servedConfigDir = resolve(options.configDir);
    let leftOut: readonly string[] = [];
    if (!meshIdentity) {
      servedConfigDir = join(stateDir, 'config');
      mirror = await startConfigMirror(resolve(options.configDir), servedConfigDir, (error) =>
        options.progress(`config mirror: ${error.message}`),
      );
      leftOut = mirror.first.leftOut;
    }
    const discoveryUrl = `http://127.0.0.1:${discoveryHttp}`;
    options.progress(`starting weft-discovery on 127.0.0.1:${xds} (config ${servedConfigDir})`);
    supervisor.start({
      name: 'weft-discovery',
      args: [
        bin.discovery,
        '--config-dir',
        servedConfigDir,
        '--xds-addr',
        `127.0.0.1:${xds}`,
        '--http-addr',
        `127.0.0.1:${discoveryHttp}`,
      ],
      logFile: log('weft-discovery'),
    });
    if (!(await waitFor(`${discoveryUrl}/ready`, ok, 20_000)))
      throw new MeshStartError(
        'discovery',
        `weft-discovery did not become ready; see ${log('weft-discovery')}`,
      );
    const tokens = await caReady;

    // Each workload: its app on 127.0.1.N, its sidecar on 127.0.0.N.
    const caArgs = (w: { namespace: string; serviceAccount: string }) =>
      meshIdentity
        ? [
            '--ca-addr',
            `127.0.0.1:${caGrpc}`,
            '--token-file',
            tokens.get(`${w.namespace}/${w.serviceAccount}`)!,
            '--ca-root-file',
            join(caDir, 'root-cert.pem'),
            '--service-account',
            w.serviceAccount,
          ]
        : [];
    const proxies: RunningProxy[] = [];
    for (const w of plan.workloads) {
      const appArgs = [options.app, '--service', w.app, '--version', w.version, '--addr', w.appAddress];
      appArgs.push('--namespace', w.namespace, '--mesh-proxy', outboundAddress(plan, w.address, 9080));
      for (const port of w.ports)
        supervisor.start({
          name: `app ${w.name}:${port}`,
          args: [...appArgs, '--port', String(port)],
          logFile: log(`app-${w.name}-${port}`),
        });
      const proxyArgs = [
        bin.proxy,
        '--discovery',
        `127.0.0.1:${xds}`,
        '--workload',
        w.name,
        '--namespace',
        w.namespace,
        '--ip',
        w.address,
        '--admin-addr',
        `${w.address}:${SIDECAR_ADMIN_PORT}`,
        '--stats-addr',
        `${w.address}:${SIDECAR_STATS_PORT}`,
        '--metadata',
        `LOCAL_APP_ADDRESS=${w.appAddress}`,
        '--metadata',
        `SERVICE_ACCOUNT=${w.serviceAccount}`,
        '--access-log',
        '--drain-time',
        String(PROXY_DRAIN_MS),
        ...(options.traceConsole ? ['--trace-console'] : []),
        ...Object.entries(w.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
        ...plan.outboundPorts.flatMap((port) => [
          '--listener',
          `0.0.0.0_${port}=${outboundAddress(plan, w.address, port)}`,
        ]),
        ...caArgs(w),
      ];
      const name = `proxy-${w.name}`;
      supervisor.start({ name, args: proxyArgs, logFile: log(name) });
      proxies.push({
        name: w.name,
        kind: 'sidecar',
        adminUrl: `http://${w.address}:${SIDECAR_ADMIN_PORT}`,
        logFile: log(name),
      });
    }

    // Gateways (router mode), the first on --gateway-port.
    const gatewayUrl = `http://127.0.0.1:${options.gatewayPort}`;
    for (const [i, g] of plan.gateways.entries()) {
      const admin = i === 0 ? gatewayAdmin : await freePort();
      const port = i === 0 ? options.gatewayPort : await freePort();
      const name = `proxy-${g.name}`;
      supervisor.start({
        name,
        args: [
          bin.proxy,
          '--discovery',
          `127.0.0.1:${xds}`,
          '--mode',
          'router',
          '--workload',
          g.name,
          '--namespace',
          g.namespace,
          '--admin-addr',
          `127.0.0.1:${admin}`,
          '--listener',
          `0.0.0.0_${g.serverPort}=127.0.0.1:${port}`,
          '--access-log',
          '--drain-time',
          String(PROXY_DRAIN_MS),
          ...(options.traceConsole ? ['--trace-console'] : []),
          ...Object.entries(g.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
          ...caArgs(g),
        ],
        logFile: log(name),
      });
      proxies.push({
        name: g.name,
        kind: 'gateway',
        adminUrl: `http://127.0.0.1:${admin}`,
        logFile: log(name),
      });
    }
    for (const proxy of proxies) {
      if (!(await waitFor(`${proxy.adminUrl}/ready`, ok, 30_000)))
        throw new MeshStartError('proxy', `proxy ${proxy.name} did not become ready; see ${proxy.logFile}`);
    }
    return {
      plan,
      stateDir,
      logDir,
      caUrl,
      discoveryUrl,
      gatewayUrl,
      proxies,
      meshIdentity,
      leftOut,
      servedConfigDir,
      supervisor,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Traffic capture for real: two Linux network namespaces joined by a veth
 * pair (198.18.10.1 "pod", 198.18.10.2 "svc"; the pod routes the made-up
 * service VIP range 198.18.20.0/24 via svc). In the pod namespace
 * `weft-proxy iptables` installs the capture rules and the built weft-proxy
 * runs as UID/GID 1337 against a control plane in the same namespace.
 * Clients in the pod namespace (root, so captured) dial service addresses;
 * the rules steer them through the proxy; backends in the svc namespace
 * answer. A client in the svc namespace dialling the pod is captured
 * inbound. Only addresses of the namespaces created here are used.
 *
 * Needs root, iproute2 (`ip`), the iptables package and setpriv; skipped
 * with the reason otherwise. Everything is torn down in afterAll.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_ID } from '../support/harness.ts';
import { captureConfig, toJson } from './capture-config.ts';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', '..', 'dist', 'main.js');
const peerScript = join(here, 'netns-peer.ts');
const node = process.execPath;
const execFileAsync = promisify(execFile);

const POD = `weft-t-${process.pid}-pod`;
const SVC = `weft-t-${process.pid}-svc`;
const POD_IF = `wt${process.pid}p`;
const SVC_IF = `wt${process.pid}s`;
const POD_IP = '198.18.10.1';
const SVC_IP = '198.18.10.2';
const VIP = '198.18.20.5';

/** Why this machine cannot run the test, or undefined when it can. */
function missingPrerequisite(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces and iptables)';
  for (const [tool, args] of [
    ['ip', ['-V']],
    ['iptables-restore', ['--version']],
    ['iptables-save', ['--version']],
    ['setpriv', ['--version']],
  ] as const) {
    if (spawnSync(tool, args).status !== 0) return `needs ${tool} (install iproute2, iptables, util-linux)`;
  }
  return undefined;
}

const missing = missingPrerequisite();
if (missing) process.stderr.write(`netns capture test skipped: ${missing}\n`);

/** Runs a setup command; throws with its stderr when it fails. */
function sh(command: string, ...args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.error?.message}`);
  return result.stdout;
}

const inNs = (ns: string, ...argv: string[]): string[] => ['netns', 'exec', ns, ...argv];
const asProxy = (...argv: string[]): string[] => [
  'setpriv',
  '--reuid',
  '1337',
  '--regid',
  '1337',
  '--clear-groups',
  '--',
  ...argv,
];
const peerArgv = (role: string, ...args: string[]): string[] => [
  node,
  '--conditions=@weft/source',
  peerScript,
  role,
  ...args,
];

const children: ChildProcess[] = [];

interface Started {
  readonly child: ChildProcess;
  /** Every JSON line the process printed so far. */
  readonly lines: Record<string, unknown>[];
  /** Everything printed on stderr so far. */
  readonly stderr: string[];
}

/** Starts a long-running process with `ip argv...`; resolves once `ready(line)` holds for a stdout/stderr line. */
async function start(argv: string[], ready: (line: string) => boolean, timeoutMs = 30_000): Promise<Started> {
  const child = spawn('ip', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const started: Started = { child, lines: [], stderr: [] };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`not ready within ${timeoutMs} ms: ${argv.join(' ')}\n${started.stderr.join('')}`)),
      timeoutMs,
    );
    const onLine = (line: string): void => {
      if (ready(line)) {
        clearTimeout(timer);
        resolve();
      }
    };
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        try {
          started.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // access log or other text: kept only through onLine
        }
        onLine(line);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      started.stderr.push(chunk.toString());
      for (const line of chunk.toString().split('\n')) onLine(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      const output = [...started.lines.map((l) => JSON.stringify(l)), ...started.stderr].join('\n');
      reject(new Error(`exited ${code} before ready: ${argv.join(' ')}\n${output}`));
    });
  });
  return started;
}

const readyLine = (line: string): boolean => line.includes('"ready":true');

/** Runs a one-shot peer role in `ns`; resolves with its JSON result line. */
async function peer(ns: string, role: string, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await execFileAsync('ip', inNs(ns, ...peerArgv(role, ...args)), {
    timeout: 15_000,
  }).catch((error: { stdout?: string; message: string }) => ({
    stdout: error.stdout ?? JSON.stringify({ error: error.message }),
  }));
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

/** `weft-proxy iptables ARGS` in the pod namespace. */
function iptables(...args: string[]): string {
  return sh('ip', ...inNs(POD, node, bin, 'iptables', ...args));
}

/** The pod namespace's nat table rules (`-A` lines). */
function natRules(): string[] {
  return sh('ip', ...inNs(POD, 'iptables-save', '-t', 'nat'))
    .split('\n')
    .filter((l) => l.startsWith('-A '));
}

async function stopChildren(): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 3000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  children.length = 0;
}

describe.skipIf(missing !== undefined)('traffic capture in network namespaces', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'weft-capture-'));

  beforeAll(async () => {
    sh('ip', 'netns', 'add', POD);
    sh('ip', 'netns', 'add', SVC);
    sh('ip', 'link', 'add', POD_IF, 'type', 'veth', 'peer', 'name', SVC_IF);
    sh('ip', 'link', 'set', POD_IF, 'netns', POD);
    sh('ip', 'link', 'set', SVC_IF, 'netns', SVC);
    for (const [ns, dev, ip] of [
      [POD, POD_IF, POD_IP],
      [SVC, SVC_IF, SVC_IP],
    ] as const) {
      sh('ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev);
      sh('ip', '-n', ns, 'link', 'set', dev, 'up');
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    sh('ip', '-n', POD, 'route', 'add', '198.18.20.0/24', 'via', SVC_IP);
    await Promise.all([
      start(inNs(SVC, ...peerArgv('http-backend', SVC_IP, '8080', 'backend')), readyLine),
      start(inNs(SVC, ...peerArgv('tcp-echo', SVC_IP, '9000', 'db')), readyLine),
      start(inNs(SVC, ...peerArgv('tcp-echo', SVC_IP, '7000', 'other')), readyLine),
      start(inNs(POD, ...peerArgv('tcp-echo', '0.0.0.0', '8000', 'app')), readyLine),
      start(inNs(POD, ...peerArgv('tcp-echo', '0.0.0.0', '15021', 'health')), readyLine),
    ]);
  }, 60_000);

  afterAll(async () => {
    await stopChildren();
    for (const ns of [POD, SVC]) spawnSync('ip', ['netns', 'del', ns]);
    // Only left in this namespace when setup failed before moving it (deleting one end deletes both).
    spawnSync('ip', ['link', 'del', POD_IF]);
    rmSync(workDir, { recursive: true, force: true });
  }, 15_000);

  it('weft-proxy iptables installs the rules once, however often it runs', () => {
    iptables();
    iptables('--exclude-outbound-ports', '5432');
    const rules = natRules();
    expect(rules.filter((r) => r === '-A PREROUTING -p tcp -j ISTIO_INBOUND')).toHaveLength(1);
    expect(rules.filter((r) => r === '-A OUTPUT -p tcp -j ISTIO_OUTPUT')).toHaveLength(1);
    expect(rules).toContain('-A ISTIO_OUTPUT -p tcp -m tcp --dport 5432 -j RETURN');
    expect(rules).toContain('-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001');
    iptables();
    expect(natRules().some((r) => r.includes('5432'))).toBe(false);
  });

  it('SO_ORIGINAL_DST returns the address a captured client dialled', async () => {
    const probe = await start(inNs(POD, ...peerArgv('original-dst-probe', '15001', '10000')), readyLine);
    await peer(POD, 'tcp-send', SVC_IP, '8080', 'ping');
    const deadline = Date.now() + 5000;
    while (probe.lines.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const seen = probe.lines[1] ?? {};
    expect(seen).toMatchObject({ host: SVC_IP, port: 8080, source: 'conntrack', local: { port: 15001 } });
    process.stderr.write(`SO_ORIGINAL_DST through koffi: ${Number(seen.nsPerCall).toFixed(0)} ns per call\n`);
  });

  describe('through weft-proxy (UID 1337)', () => {
    let proxy: Started;

    beforeAll(async () => {
      const configFile = join(workDir, 'config.json');
      writeFileSync(
        configFile,
        JSON.stringify(
          toJson(
            captureConfig({
              http: { hostname: 'backend.weft.test', port: 8080, upstream: { host: SVC_IP, port: 8080 } },
              tcp: { vip: VIP, port: 9000, upstream: { host: SVC_IP, port: 9000 } },
              fallback: { host: SVC_IP, port: 7000 },
              // As Istio: the inbound cluster targets the pod IP, bound to source 127.0.0.6.
              inbound: { port: 8000, upstream: { host: POD_IP, port: 8000 }, sourceAddress: '127.0.0.6' },
            }),
          ),
        ),
      );
      const plane = await start(inNs(POD, ...peerArgv('control-plane', configFile)), readyLine);
      const bound = new Set<string>();
      proxy = await start(
        inNs(
          POD,
          ...asProxy(
            node,
            bin,
            '--discovery',
            String(plane.lines[0]?.address),
            '--node-id',
            NODE_ID,
            '--interception',
            'REDIRECT',
            '--drain-time',
            '0',
          ),
        ),
        (line) => {
          const match = /"msg":"listener bound","listener":"(virtual(?:In|Out)bound)"/.exec(line);
          if (match) bound.add(match[1]!);
          return bound.size === 2;
        },
      );
    }, 60_000);

    it('outbound HTTP to a service address reaches the backend through the proxy, routed by Host', async () => {
      const response = await peer(POD, 'http-get', `http://${SVC_IP}:8080/hello`, 'backend.weft.test:8080');
      expect(response).toMatchObject({ status: 200, headers: { server: 'weft' } });
      expect((response.headers as Record<string, string>)['x-envoy-upstream-service-time']).toBeDefined();
      const seen = JSON.parse(String(response.body)) as { remote: string; headers: Record<string, string> };
      expect(seen.remote).toBe(POD_IP);
      expect(seen.headers['x-request-id']).toBeTruthy();
    });

    it('outbound HTTP with a Host no route knows gets 404 from the proxy', async () => {
      const response = await peer(POD, 'http-get', `http://${SVC_IP}:8080/hello`, 'unknown.weft.test:8080');
      expect(response).toMatchObject({ status: 404, headers: { server: 'weft' } });
    });

    it('outbound TCP to a service VIP is handed to the VIP listener and reaches the endpoint', async () => {
      expect(await peer(POD, 'tcp-send', VIP, '9000', 'ping')).toEqual({ reply: `db|${POD_IP}|ping` });
    });

    it('outbound TCP to a port no listener claims passes through (PassthroughCluster, ORIGINAL_DST)', async () => {
      const passthroughSessions = async (): Promise<number> => {
        const scrape = await peer(
          POD,
          'http-get',
          'http://127.0.0.1:15000/stats/prometheus',
          '127.0.0.1:15000',
        );
        const line = String(scrape.body)
          .split('\n')
          .find(
            (l) =>
              l.startsWith('weft_proxy_tcp_connections_closed_total') && l.includes('"PassthroughCluster"'),
          );
        return line ? Number(line.split(' ').at(-1)) : 0;
      };
      const before = await passthroughSessions();
      expect(await peer(POD, 'tcp-send', SVC_IP, '7000', 'ping')).toEqual({ reply: `other|${POD_IP}|ping` });
      const deadline = Date.now() + 15_000;
      while ((await passthroughSessions()) === before && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(await passthroughSessions()).toBe(before + 1);
    }, 40_000);

    it('inbound TCP to the pod is redirected to 15006 and reaches the app from 127.0.0.6 (not captured again)', async () => {
      expect(await peer(SVC, 'tcp-send', POD_IP, '8000', 'ping')).toEqual({ reply: 'app|127.0.0.6|ping' });
    });

    it('inbound TCP to an excluded port (15021) is not captured', async () => {
      expect(await peer(SVC, 'tcp-send', POD_IP, '15021', 'ping')).toEqual({
        reply: `health|${SVC_IP}|ping`,
      });
    });

    it('after weft-proxy iptables --cleanup traffic goes direct again', async () => {
      iptables('--cleanup');
      expect(natRules()).toEqual([]);
      const response = await peer(POD, 'http-get', `http://${SVC_IP}:8080/hello`, 'backend.weft.test:8080');
      expect(response.status).toBe(200);
      expect((response.headers as Record<string, string>).server).toBeUndefined();
      expect(proxy.child.exitCode).toBeNull();
    });
  });
});

/**
 * RSS of a bookinfo productpage sidecar: the built weft-proxy with its
 * identity from the built weft-ca and examples/bookinfo from the built
 * weft-discovery (STRICT mTLS, AuthorizationPolicies), read from
 * /proc/PID/status when ready, idle, and after 2000 requests through its
 * outbound listener (details has no app here: the path runs, the answers
 * are errors). A measurement aid, not a test.
 *
 * With SERVICES=N the config is bookinfo plus N generated services (a
 * ServiceEntry with 10 WorkloadEntries each, in the sidecar's namespace),
 * all in the sidecar's view: issue 9's "1000 services in view".
 *
 * Run from the repo root after building:
 *   node --conditions=@weft/source apps/proxy/test/security/sidecar-rss.ts [node flags for the proxy]
 * e.g. `--max-semi-space-size=0` for V8's default heap sizing; SNAP=1 writes
 * a heap snapshot (--heapsnapshot-signal=SIGUSR2 among the flags) to /tmp.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort, PROXY_BIN, startDiscoveryProcess, stopChild } from '../support/processes.ts';
import { istioObject, startCaProcess, writeConfig } from './mesh-fixture.ts';

const nodeFlags = process.argv.slice(2);
const ca = await startCaProcess(['--cert-ttl', '1h']);
const dir = await mkdtemp(join(tmpdir(), 'rss-'));
const configDir = join(dir, 'config');
await cp(new URL('../../../../examples/bookinfo', import.meta.url), configDir, { recursive: true });
const services = Number(process.env.SERVICES ?? 0);
await writeConfig(
  configDir,
  'generated-services.yaml',
  Array.from({ length: services }, (_, i) => [
    istioObject('ServiceEntry', `gen-${i}`, {
      hosts: [`gen-${i}.default.svc.cluster.local`],
      location: 'MESH_INTERNAL',
      resolution: 'STATIC',
      ports: [{ number: 8080, name: 'http', protocol: 'HTTP' }],
      workloadSelector: { labels: { app: `gen-${i}` } },
    }),
    ...Array.from({ length: 10 }, (_, e) =>
      istioObject('WorkloadEntry', `gen-${i}-${e}`, {
        address: `10.${(i >> 8) & 255}.${i & 255}.${e + 1}`,
        serviceAccount: `gen-${i}`,
        labels: { app: `gen-${i}` },
      }),
    ),
  ]).flat(),
);
const discovery = await startDiscoveryProcess(configDir);
const tokenFile = join(dir, 'pp.token');
await writeFile(tokenFile, await ca.token('default', 'bookinfo-productpage'));
const admin = await freePort();
const out = await freePort();
const child = spawn(
  process.execPath,
  [
    ...nodeFlags,
    PROXY_BIN,
    '--ca-addr',
    ca.address,
    '--token-file',
    tokenFile,
    '--ca-root-file',
    ca.rootFile,
    '--service-account',
    'bookinfo-productpage',
    '--discovery',
    discovery.xdsAddress,
    '--workload',
    'productpage-v1',
    '--namespace',
    'default',
    '--ip',
    '127.0.0.2',
    '--label',
    'app=productpage',
    '--label',
    'version=v1',
    '--listener',
    'virtualOutbound=127.0.0.1:0',
    '--listener',
    'virtualInbound=127.0.0.1:0',
    '--listener',
    `0.0.0.0_9080=127.0.0.1:${out}`,
    '--admin-addr',
    `127.0.0.1:${admin}`,
    '--log-level',
    'error',
  ],
  { stdio: 'inherit', cwd: tmpdir() },
);
const t0 = Date.now();
for (;;) {
  const ok = await request(`http://127.0.0.1:${admin}/ready`).then(
    async (r) => {
      await r.body.dump();
      return r.statusCode === 200;
    },
    () => false,
  );
  if (ok) break;
  if (Date.now() - t0 > 20000) throw new Error('not ready');
  await new Promise((r) => setTimeout(r, 50));
}
const rss = () => {
  const s = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return {
    rss: Number(/VmRSS:\s+(\d+)/.exec(s)![1]) / 1024,
    hwm: Number(/VmHWM:\s+(\d+)/.exec(s)![1]) / 1024,
  };
};
console.log('ready after', Date.now() - t0, 'ms', rss());
await new Promise((r) => setTimeout(r, 6000));
console.log('idle 6s', rss());
// some traffic through the outbound listener (details has no app: the answers are errors, the path runs)
for (let i = 0; i < 2000; i++) {
  await request(`http://127.0.0.1:${out}/details/0`, { headers: { host: 'details:9080' } }).then(
    (r) => r.body.dump(),
    () => {},
  );
}
console.log('after 2000 requests', rss());
await new Promise((r) => setTimeout(r, 3000));
console.log('idle 3s', rss());
if (process.env.SNAP) {
  child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 15_000));
}
await stopChild(child);
await discovery.stop();
await ca.stop();

/**
 * Measures weft-proxy's CPU time per HTTP/1.1 request: a keep-alive client
 * (undici Pool, 64 in flight) -> proxy (child process) -> node:http backend
 * (another child process).
 * Only the proxy process's CPU is counted (process.cpuUsage in the child).
 *
 * Run: cd apps/proxy && node --conditions=@weft/source bench/http-bench.ts [requests]
 * With BASELINE=1 the proxy is replaced by bench/baseline-child.ts (bare
 * node:http + undici forwarding), the floor for a Node proxy on this machine.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const total = Number(process.argv[2] ?? 20000);
const here = dirname(fileURLToPath(import.meta.url));
type Message = { port?: number; cpu?: NodeJS.CpuUsage; rss?: number };
const next = (from: ChildProcess): Promise<Message> =>
  new Promise((resolve) => from.once('message', (m) => resolve(m as Message)));
const backend = fork(join(here, 'backend-child.ts'));
const backendPort = (await next(backend)).port!;

const child = fork(
  join(here, process.env.BASELINE ? 'baseline-child.ts' : 'proxy-child.ts'),
  [String(backendPort)],
  {
    execArgv: [
      '--conditions=@weft/source',
      ...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []),
    ],
  },
);
const { port } = await next(child);

const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8, pipelining: 1 });
async function run(n: number): Promise<void> {
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < n) {
      sent++;
      const res = await pool.request({
        method: 'GET',
        path: '/api/items?id=1',
        headers: { host: 'svc.local' },
      });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
}

await run(3000);
child.send('cpu');
const before = await next(child);
const started = process.hrtime.bigint();
await run(total);
const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
child.send('cpu');
const after = await next(child);
const cpuUs = after.cpu!.user - before.cpu!.user + (after.cpu!.system - before.cpu!.system);
console.log(
  JSON.stringify({
    requests: total,
    requestsPerSecond: Math.round((total / elapsedMs) * 1000),
    proxyCpuMicrosPerRequest: Number((cpuUs / total).toFixed(1)),
    proxyUserMicrosPerRequest: Number(((after.cpu!.user - before.cpu!.user) / total).toFixed(1)),
    proxyRssMb: Math.round((after.rss ?? 0) / 1e6),
  }),
);
child.send('exit');
await pool.close();
backend.send('exit');

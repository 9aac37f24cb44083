/**
 * `weft up [DIR]`: the whole mesh on this machine in one command (see
 * src/up/ for the plan, the process supervisor and the traffic summary).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigPaths } from '@weft/config';
import { driveTraffic } from '../up/gateway-traffic.ts';
import { planMesh } from '../up/mesh-plan.ts';
import { MeshStartError, type RunningMesh, scrape, startMesh, waitFor } from '../up/mesh-runner.ts';
import { edgesFromScrapes, formatSummary, summarize } from '../up/mesh-summary.ts';
import { parseUpFlags, UP_USAGE, type UpFlags } from '../up/up-flags.ts';
import { type Command, type CommandIo, EXIT_FAILURE, EXIT_OK, UsageError } from './command.ts';

/** Edges bookinfo must serve; other configurations are judged on the gateway alone. */
const BOOKINFO_EDGES = [
  { source: 'istio-ingressgateway', destination: 'productpage' },
  { source: 'productpage-v1', destination: 'details' },
  { source: 'productpage-v1', destination: 'reviews' },
  { source: 'reviews-v3', destination: 'ratings' },
];
const TRAFFIC_CONCURRENCY = 4;

/** The one screen: what runs where, URLs to try, where metrics and logs are. */
export function formatScreen(mesh: RunningMesh): string {
  const lines = ['', 'weft up: the mesh is running', ''];
  lines.push(`  weft-ca          ${mesh.caUrl} (state ${join(mesh.stateDir, 'ca')})`);
  lines.push(`  weft-discovery   ${mesh.discoveryUrl}/debug (config ${mesh.servedConfigDir})`);
  lines.push('', '  workload           app               proxy (inbound, outbound, admin)');
  for (const w of mesh.plan.workloads) {
    lines.push(
      `  ${w.name.padEnd(18)} ${`${w.appAddress}:${w.ports.join(',')}`.padEnd(17)} ${w.address}:${w.ports.join(',')}, ${w.address}:15001, http://${w.address}:15000`,
    );
  }
  for (const p of mesh.proxies.filter((p) => p.kind === 'gateway'))
    lines.push(`  ${p.name.padEnd(18)} gateway ${mesh.gatewayUrl}, admin ${p.adminUrl}`);
  lines.push('', '  try:');
  lines.push(`    curl ${mesh.gatewayUrl}/productpage`);
  lines.push(`    curl ${mesh.gatewayUrl}/api/v1/products/0`);
  lines.push(`    curl ${mesh.proxies[0]?.adminUrl ?? ''}/stats/prometheus | grep istio_requests_total`);
  lines.push(`  logs (access logs are JSON lines in the proxy-*.log files): ${mesh.logDir}`);
  lines.push(
    '  metrics: each sidecar on its address :15090/stats/prometheus, and every proxy admin /stats/prometheus (Istio standard metrics)',
  );
  lines.push(`  edit the YAML in the config directory and traffic changes within 2 s`);
  if (!mesh.meshIdentity) {
    lines.push(
      '',
      '  NOTE: no workload identities (--plaintext, or weft-proxy without --ca-addr), so mTLS and principals',
    );
    lines.push('  cannot be enforced: the mesh runs plaintext (PeerAuthentication DISABLE added) and these');
    lines.push('  documents are NOT applied:');
    for (const doc of mesh.leftOut) lines.push(`    - ${doc}`);
  }
  for (const problem of mesh.plan.problems) lines.push(`  skipped: ${problem}`);
  lines.push('', '  Ctrl-C stops everything.', '');
  return `${lines.join('\n')}\n`;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

async function run(flags: UpFlags, io: CommandIo): Promise<number> {
  const loaded = await loadConfigPaths([flags.configDir]);
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  if (loaded.objects.length === 0 || errors.length > 0) {
    io.stderr(
      `weft up: ${flags.configDir} has ${errors.length} configuration error(s) and ${loaded.objects.length} valid object(s); run "weft analyze ${flags.configDir}"\n`,
    );
    return EXIT_FAILURE;
  }
  const plan = planMesh(loaded.objects);
  if (plan.workloads.length === 0 || plan.gateways.length === 0) {
    io.stderr(
      `weft up: nothing to run: ${[...plan.problems, 'need WorkloadEntries and a Gateway'].join('; ')}\n`,
    );
    return EXIT_FAILURE;
  }
  const screen = flags.json ? io.stderr : io.stdout;
  const stateDir = flags.stateDir ?? (await mkdtemp(join(tmpdir(), 'weft-up-')));
  const killOnExit = () => mesh?.supervisor.killAll();
  let mesh: RunningMesh | undefined;
  process.once('exit', killOnExit);
  const interrupted = waitForSignal();
  const starting = startMesh(plan, {
    configDir: flags.configDir,
    app: flags.app,
    gatewayPort: flags.gatewayPort,
    stateDir,
    plaintext: flags.plaintext,
    traceConsole: flags.traceConsole,
    onEvent: (e) => io.stderr(`weft up: ${e.name} ${e.kind}: ${e.detail}\n`),
    progress: (line) => screen(`weft up: ${line}\n`),
  });
  try {
    mesh = await Promise.race([starting, interrupted.then(() => undefined)]);
  } catch (error) {
    if (!(error instanceof MeshStartError)) throw error;
    io.stderr(`weft up: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  if (!mesh) {
    // Interrupted while starting: stop whatever comes up.
    await starting.then(
      (late) => late.stop(),
      () => undefined,
    );
    return EXIT_FAILURE;
  }
  if (!mesh) return EXIT_FAILURE;
  try {
    const served = await waitFor(
      `${mesh.gatewayUrl}/productpage`,
      (r) => r.status === 200 && r.body.includes('data-version'),
      30_000,
    );
    screen(formatScreen(mesh));
    if (!served) io.stderr(`weft up: the gateway does not serve /productpage yet; see ${mesh.logDir}\n`);
    if (flags.exitAfterMs === undefined) {
      const signal = await interrupted;
      screen(`weft up: ${signal}: stopping\n`);
      return EXIT_OK;
    }
    const started = performance.now();
    const gateway = await Promise.race([
      driveTraffic({
        host: '127.0.0.1',
        port: flags.gatewayPort,
        path: '/productpage',
        durationMs: flags.exitAfterMs,
        concurrency: TRAFFIC_CONCURRENCY,
      }),
      interrupted.then(() => undefined),
    ]);
    if (!gateway) return EXIT_FAILURE;
    const durationMs = performance.now() - started;
    const scrapes = await Promise.all(mesh.proxies.map(scrape));
    // Keep the final scrapes beside the logs: the numbers behind the summary.
    await Promise.all(
      mesh.proxies.map((p, i) => writeFile(join(mesh!.logDir, `proxy-${p.name}.prom`), scrapes[i]!)),
    );
    const edges = edgesFromScrapes(scrapes);
    const bookinfo = plan.workloads.some((w) => w.name === 'productpage-v1');
    const summary = summarize(gateway, edges, bookinfo ? BOOKINFO_EDGES : [], durationMs);
    if (flags.json)
      io.stdout(
        `${JSON.stringify({ ...summary, stateDir: mesh.stateDir, logDir: mesh.logDir, proxies: mesh.proxies }, null, 2)}\n`,
      );
    else io.stdout(formatSummary(summary));
    return summary.ok ? EXIT_OK : EXIT_FAILURE;
  } finally {
    await mesh.stop();
    process.off('exit', killOnExit);
  }
}

export const upCommand: Command = {
  name: 'up',
  summary: 'run the whole mesh (CA, discovery, proxies, demo app, gateway) on this machine',
  usage: UP_USAGE,
  async run(args, io) {
    const parsed = parseUpFlags(args);
    if (parsed.kind === 'help') {
      io.stdout(UP_USAGE);
      return EXIT_OK;
    }
    if (parsed.kind === 'error') throw new UsageError(parsed.problems.join('; '));
    return run(parsed.flags, io);
  },
};

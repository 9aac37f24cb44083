/**
 * The weft-proxy command (run by main.ts): parses flags, starts the proxy
 * against the ADS server, and drains on SIGTERM/SIGINT or POST
 * /quitquitquit (stop accepting, let open requests finish for --drain-time,
 * then exit). `weft-proxy iptables ...` installs the traffic capture rules
 * instead (the init container's job). With `--concurrency N` (N > 1) this
 * process becomes the primary (ADS, admin) and forks N workers
 * (node:cluster) that run main.ts too and serve the listeners
 * (workers/primary-process.ts).
 */
import cluster from 'node:cluster';
import { createWriteStream } from 'node:fs';
import { parseLogLevel } from '@weft/telemetry';
import { HELP, parseFlags } from './cli-flags.ts';
import { type ProxyOptions, startProxy, type WeftProxy } from './proxy.ts';
import { createLevelSwitch } from './telemetry/level-switch.ts';
import type { AccessLogRecord } from './telemetry/proxy-telemetry.ts';
import { startPrimary } from './workers/primary-process.ts';
import { startWorker } from './workers/worker-process.ts';

async function main(): Promise<number> {
  if (process.argv[2] === 'iptables') {
    // Loaded only here (as the identity agent below only with an identity): a process holds
    // the code it runs, and node-forge alone is about 3 MB of it.
    const { runIptablesCommand, runTool } = await import('./capture/iptables-command.ts');
    return runIptablesCommand(process.argv.slice(3), {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      run: runTool,
    });
  }
  const parsed = parseFlags(process.argv.slice(2));
  if (parsed.kind === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (parsed.kind === 'error') {
    for (const problem of parsed.problems) process.stderr.write(`weft-proxy: ${problem}\n`);
    process.stderr.write('Run weft-proxy --help for usage.\n');
    return 2;
  }
  const flags = parsed.flags;
  const levels = createLevelSwitch({ name: 'weft-proxy', level: flags.logLevel });
  const logger = levels.logger;
  let proxy: WeftProxy | undefined;
  let stopping = false;
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('draining', { reason, drainTimeMs: flags.drainTimeMs });
    proxy?.drain();
    setTimeout(() => {
      proxy
        ?.close()
        .catch((error: unknown) => logger.error('close failed', { error }))
        .finally(() => process.exit(0));
    }, flags.drainTimeMs).unref();
  };
  // Last line of defence: a bug in one connection's handling must not take the proxy down.
  process.on('uncaughtException', (error) =>
    logger.error('uncaught exception', { error, stack: error.stack }),
  );
  process.on('unhandledRejection', (error) => logger.error('unhandled rejection', { error }));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // The identity agent: each process that serves traffic (or validates, in a primary) holds its own certificate.
  const agent = flags.agent
    ? (await import('./agent/identity-agent.ts')).startIdentityAgent({
        ...flags.agent,
        namespace: String(flags.metadata.NAMESPACE),
        logger,
      })
    : undefined;
  try {
    const options: ProxyOptions = {
      ...(agent ? { secrets: agent.secrets } : {}),
      traceSampleRate: flags.traceSampleRate,
      ...(flags.tracing ? { tracing: flags.tracing } : {}),
      ...(flags.agent
        ? {
            identityPrincipal: `spiffe://${flags.agent.trustDomain}/ns/${String(flags.metadata.NAMESPACE)}/sa/${flags.agent.serviceAccount}`,
          }
        : {}),
      discoveryAddress: flags.discovery,
      adsMode: flags.adsMode,
      node: {
        id: flags.nodeId,
        cluster: flags.cluster,
        metadata: flags.metadata,
        userAgentName: 'weft-proxy',
      },
      admin: flags.admin,
      status: flags.status,
      listenerAddresses: flags.listeners,
      drainTimeMs: flags.drainTimeMs,
      logger,
      ...(flags.accessLog ? { accessLog: accessLogWriter(flags.accessLog) } : {}),
      onQuit: () => stop('quitquitquit'),
      logLevel: {
        get: () => levels.level(),
        set: (level) => {
          const parsed = parseLogLevel(level);
          if (parsed) levels.setLevel(parsed);
          return parsed !== undefined;
        },
      },
    };
    if (cluster.isWorker) proxy = await startWorker(options, () => stop('primary asked to drain'));
    else if (flags.concurrency > 1) proxy = await startPrimary(options, flags.concurrency);
    else proxy = await startProxy(options);
  } catch (error) {
    logger.error('startup failed', { error });
    return 1;
  }
  logger.info('started', {
    nodeId: flags.nodeId,
    discovery: flags.discovery,
    admin: proxy.adminAddress,
    status: proxy.statusAddresses,
    ...(cluster.isWorker ? { worker: process.pid } : { workers: flags.concurrency }),
  });
  // Runs until a signal or /quitquitquit; the admin server and listeners hold the event loop.
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`weft-proxy: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);

/** One JSON line per record on stdout, or appended to the file `sink`. */
function accessLogWriter(sink: string): (record: AccessLogRecord) => void {
  if (sink === 'stdout') return (record) => process.stdout.write(`${JSON.stringify(record)}\n`);
  const file = createWriteStream(sink, { flags: 'a' });
  file.on('error', (error) => process.stderr.write(`weft-proxy: access log ${sink}: ${error.message}\n`));
  return (record) => file.write(`${JSON.stringify(record)}\n`);
}

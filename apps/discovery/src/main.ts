#!/usr/bin/env node
/**
 * weft-discovery: parses flags, starts one discovery server, logs its bound
 * addresses as one JSON line (`msg: "ready"`), and shuts down gracefully on
 * SIGTERM/SIGINT. Everything else lives in `serve/`.
 */
import { createLogger } from '@weft/telemetry';
import { helpText, parseFlags } from './cli-flags.ts';
import { DiscoveryStartError, startDiscovery } from './index.ts';

const parsed = parseFlags(process.argv.slice(2));
if (parsed.kind === 'help') {
  process.stdout.write(helpText());
  process.exit(0);
}
if (parsed.kind === 'error') {
  process.stderr.write(
    `weft-discovery: ${parsed.message.replaceAll('\n', '\nweft-discovery: ')}\n\n${helpText()}`,
  );
  process.exit(2);
}
const { flags } = parsed;
const log = createLogger({ name: 'weft-discovery', level: flags.logLevel });
if (flags.kube) {
  log.error('the Kubernetes config source is not available yet in this build; use --config-dir DIR');
  process.exit(2);
}

try {
  const server = await startDiscovery({
    source: { kind: 'directory', dir: flags.configDir ?? '' },
    xdsAddr: flags.xdsAddr,
    httpAddr: flags.httpAddr,
    mesh: { trustDomain: flags.trustDomain },
    debounceMs: flags.debounceMs,
    logger: log,
  });
  log.info('ready', {
    xdsAddress: server.xdsAddress,
    httpAddress: server.httpAddress,
    configDir: flags.configDir,
  });
  const shutdown = (signal: string): void => {
    log.info('shutting down', { signal });
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
} catch (error) {
  const code = error instanceof DiscoveryStartError ? error.code : 'UNEXPECTED';
  log.error('start-up failed', { code, error });
  process.exit(code === 'SOURCE_UNAVAILABLE' ? 2 : 1);
}

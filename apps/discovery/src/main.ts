#!/usr/bin/env node
/**
 * weft-discovery: parses flags, starts one discovery server, logs its bound
 * addresses as one JSON line (`msg: "ready"`), and shuts down gracefully on
 * SIGTERM/SIGINT. Everything else lives in `serve/`.
 */
import { createLogger } from '@weft/telemetry';
import { helpText, parseFlags } from './cli-flags.ts';
import { DiscoveryStartError, startDiscovery } from './index.ts';
import { loadKubeConfig } from './sources/create-config-source.ts';
import { type AdmissionWebhooks, startAdmissionWebhooks } from './webhook/start-admission-webhooks.ts';

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
const { cluster } = flags;

try {
  const server = await startDiscovery({
    source: cluster
      ? { kind: 'kubernetes', ...(cluster.kubeconfig ? { kubeconfig: cluster.kubeconfig } : {}) }
      : { kind: 'directory', dir: flags.configDir ?? '' },
    xdsAddr: flags.xdsAddr,
    httpAddr: flags.httpAddr,
    mesh: { trustDomain: flags.trustDomain },
    debounceMs: flags.debounceMs,
    logger: log,
  });
  let webhooks: AdmissionWebhooks | undefined;
  if (cluster) {
    const loaded = loadKubeConfig(cluster.kubeconfig);
    try {
      if (!loaded.ok) throw new Error(loaded.message);
      webhooks = await startAdmissionWebhooks({
        address: cluster.webhookAddr,
        dnsNames: cluster.webhookDnsNames,
        template: {
          proxyImage: cluster.proxyImage,
          discoveryAddress: cluster.injectedDiscoveryAddr,
          caAddress: cluster.caAddr,
        },
        kubeConfig: loaded.kubeConfig,
        logger: log.child({ component: 'webhook' }),
      });
    } catch (error) {
      log.error('start-up failed', { code: 'WEBHOOK_START_FAILED', error });
      await server.close();
      process.exit(1);
    }
  }
  log.info('ready', {
    xdsAddress: server.xdsAddress,
    httpAddress: server.httpAddress,
    ...(webhooks ? { webhookAddress: webhooks.address } : { configDir: flags.configDir }),
  });
  const shutdown = (signal: string): void => {
    log.info('shutting down', { signal });
    Promise.all([server.close(), webhooks?.close()]).then(
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

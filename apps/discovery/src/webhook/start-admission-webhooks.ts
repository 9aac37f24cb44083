/**
 * The admission webhooks as one unit: a serving certificate from the
 * discovery process's own CA (weft-ca issues only SPIFFE identities), the
 * HTTPS server with `/inject` and `/validate`, namespace labels read from the
 * API server per pod, and the webhook configurations' caBundle kept pointing
 * at that CA.
 */
import { CoreV1Api, type KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import type { Logger } from '@weft/telemetry';
import type { HostPort } from '../serve/host-port.ts';
import { createResilientInformer } from '../sources/kube/resilient-informer.ts';
import {
  createInjectHandler,
  type NamespaceLabelsLookup,
  validateIstioRequest,
} from './admission-handlers.ts';
import { type CaBundleSyncResult, startCaBundleSync } from './ca-bundle-sync.ts';
import { createServingCertificate } from './serving-certificate.ts';
import type { SidecarTemplateOptions } from './sidecar-template.ts';
import { startWebhookServer } from './webhook-server.ts';

export interface AdmissionWebhooksOptions {
  address: HostPort;
  /** DNS names the API server dials, e.g. `weft-discovery.weft-system.svc`. */
  dnsNames: readonly string[];
  /** IP SANs of the serving certificate (tests dial 127.0.0.1). */
  ipAddresses?: readonly string[];
  template: SidecarTemplateOptions;
  /** The cluster: namespace labels and caBundle sync. Without it only the pod's own opt-in counts and no caBundle is written. */
  kubeConfig?: KubeConfig;
  /** Overrides the namespace lookup (tests, embedders with an informer cache). */
  namespaceLabels?: NamespaceLabelsLookup;
  /** Re-check of the caBundle; default 60000 ms. */
  caBundleIntervalMs?: number;
  logger?: Logger;
}

export interface AdmissionWebhooks {
  /** Bound `HOST:PORT`. */
  readonly address: string;
  /** The CA (PEM) the serving certificate chains to: what `caBundle` holds. */
  readonly caPem: string;
  /** The first caBundle sync, when a kubeConfig was given. */
  readonly caBundleSync: CaBundleSyncResult | undefined;
  close(): Promise<void>;
}

/**
 * Namespace labels from an informer's cache; before its first list, or for a
 * namespace the watch has not delivered yet, from a GET.
 */
function namespaceLookup(
  kubeConfig: KubeConfig,
  logger: Logger | undefined,
): {
  lookup: NamespaceLabelsLookup;
  stop: () => Promise<void>;
} {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const informer = createResilientInformer<V1Namespace>({
    kubeConfig,
    path: '/api/v1/namespaces',
    list: () => core.listNamespace(),
    onEvent: () => {},
    ...(logger ? { logger } : {}),
  });
  informer.start();
  return {
    lookup: async (name) => {
      const cached = informer.synced ? informer.get(name) : undefined;
      if (cached) return cached.metadata?.labels ?? {};
      return (await core.readNamespace({ name })).metadata?.labels ?? {};
    },
    stop: () => informer.stop(),
  };
}

/** Starts the webhooks; rejects with WebhookStartError when the port cannot be bound. */
export async function startAdmissionWebhooks(options: AdmissionWebhooksOptions): Promise<AdmissionWebhooks> {
  const log = options.logger;
  const tls = await createServingCertificate({
    dnsNames: options.dnsNames,
    ...(options.ipAddresses ? { ipAddresses: options.ipAddresses } : {}),
  });
  const namespaces =
    options.namespaceLabels === undefined && options.kubeConfig
      ? namespaceLookup(options.kubeConfig, log)
      : undefined;
  const namespaceLabels: NamespaceLabelsLookup =
    options.namespaceLabels ?? namespaces?.lookup ?? (async () => undefined);
  const server = await startWebhookServer({
    address: options.address,
    tls,
    inject: createInjectHandler({
      template: options.template,
      namespaceLabels,
      ...(log ? { logger: log } : {}),
    }),
    validate: validateIstioRequest,
    ...(log ? { logger: log } : {}),
  });
  const sync = options.kubeConfig
    ? await startCaBundleSync({
        kubeConfig: options.kubeConfig,
        caPem: tls.caPem,
        ...(options.caBundleIntervalMs === undefined ? {} : { intervalMs: options.caBundleIntervalMs }),
        ...(log ? { logger: log } : {}),
      })
    : undefined;
  log?.info('admission webhooks listening', { address: server.address, dnsNames: options.dnsNames });
  return {
    address: server.address,
    caPem: tls.caPem,
    caBundleSync: sync?.first,
    close: async () => {
      sync?.stop();
      await Promise.all([server.close(), namespaces?.stop()]);
    },
  };
}

/**
 * Keeps the webhook configurations trusting the webhook's serving CA: sets
 * `clientConfig.caBundle` of every webhook in the MutatingWebhookConfiguration
 * and ValidatingWebhookConfiguration Weft's manifests install, by
 * read-modify-replace with the object's resourceVersion (a concurrent write
 * makes the replace fail with 409, and it is retried from a fresh read).
 * A configuration that does not exist yet is reported and retried on the
 * next round.
 */
import {
  AdmissionregistrationV1Api,
  ApiException,
  type KubeConfig,
  type V1MutatingWebhookConfiguration,
  type V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import type { Logger } from '@weft/telemetry';

/** Names of the webhook configurations in deploy/ (see docs/kubernetes.md). */
export const INJECTOR_WEBHOOK_CONFIG = 'weft-sidecar-injector';
export const VALIDATOR_WEBHOOK_CONFIG = 'weft-validator';

export interface CaBundleSyncOptions {
  kubeConfig: KubeConfig;
  /** The CA (PEM) the webhook's serving certificate chains to. */
  caPem: string;
  mutatingName?: string;
  validatingName?: string;
  logger?: Logger;
}

export interface CaBundleSyncResult {
  /** Configurations whose caBundle was written this round. */
  patched: string[];
  /** Configurations already trusting the CA. */
  unchanged: string[];
  /** Configurations that could not be read or written, with the reason. */
  failed: { name: string; reason: string }[];
}

interface WebhookConfig {
  metadata?: { resourceVersion?: string };
  webhooks?: { clientConfig: { caBundle?: string } }[];
}

interface Target {
  name: string;
  read: () => Promise<WebhookConfig>;
  replace: (body: WebhookConfig) => Promise<unknown>;
}

function reasonOf(error: unknown): string {
  if (error instanceof ApiException) return error.code === 404 ? 'not found' : `HTTP ${error.code}`;
  return error instanceof Error ? error.message : String(error);
}

/** Writes `caBundle` into both configurations once (up to 3 tries each on conflicts). Never throws. */
export async function syncCaBundles(options: CaBundleSyncOptions): Promise<CaBundleSyncResult> {
  const api = options.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const bundle = Buffer.from(options.caPem).toString('base64');
  const result: CaBundleSyncResult = { patched: [], unchanged: [], failed: [] };
  const mutating = options.mutatingName ?? INJECTOR_WEBHOOK_CONFIG;
  const validating = options.validatingName ?? VALIDATOR_WEBHOOK_CONFIG;
  const targets: Target[] = [
    {
      name: `MutatingWebhookConfiguration/${mutating}`,
      read: () => api.readMutatingWebhookConfiguration({ name: mutating }),
      replace: (body) =>
        api.replaceMutatingWebhookConfiguration({
          name: mutating,
          body: body as V1MutatingWebhookConfiguration,
        }),
    },
    {
      name: `ValidatingWebhookConfiguration/${validating}`,
      read: () => api.readValidatingWebhookConfiguration({ name: validating }),
      replace: (body) =>
        api.replaceValidatingWebhookConfiguration({
          name: validating,
          body: body as V1ValidatingWebhookConfiguration,
        }),
    },
  ];
  for (const target of targets) {
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await target.read();
        const webhooks = current.webhooks ?? [];
        if (webhooks.every((w) => w.clientConfig.caBundle === bundle)) {
          result.unchanged.push(target.name);
          break;
        }
        for (const webhook of webhooks) webhook.clientConfig.caBundle = bundle;
        await target.replace(current);
        result.patched.push(target.name);
        options.logger?.info('webhook configuration now trusts the serving CA', { config: target.name });
        break;
      } catch (error) {
        if (error instanceof ApiException && error.code === 409 && attempt < 3) continue;
        result.failed.push({ name: target.name, reason: reasonOf(error) });
        options.logger?.warn('cannot set the caBundle of a webhook configuration', {
          config: target.name,
          reason: reasonOf(error),
        });
        break;
      }
    }
  }
  return result;
}

/**
 * Syncs now, then every `intervalMs` (a `kubectl apply` of the manifests may
 * reset the bundle). Returns the first round's result and a stop function.
 */
export async function startCaBundleSync(
  options: CaBundleSyncOptions & { intervalMs?: number },
): Promise<{ first: CaBundleSyncResult; stop: () => void }> {
  const first = await syncCaBundles(options);
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    syncCaBundles(options)
      .catch((error: unknown) => options.logger?.error('caBundle sync failed', { error }))
      .finally(() => {
        running = false;
      });
  }, options.intervalMs ?? 60_000);
  timer.unref();
  return { first, stop: () => clearInterval(timer) };
}

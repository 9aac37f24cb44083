/**
 * Keeps the webhook configurations trusting the webhook's serving CA: adds it
 * to `clientConfig.caBundle` of every webhook in the
 * MutatingWebhookConfiguration and ValidatingWebhookConfiguration Weft's
 * manifests install, by a JSON Patch that first tests the resourceVersion it
 * read (a concurrent write fails the patch, which is retried from a fresh
 * read). Needs only `get` and `patch` on those two objects.
 *
 * Each discovery replica has its own serving CA, so the bundle is a set:
 * a replica appends its CA when missing and keeps the newest
 * `MAX_BUNDLE_CERTIFICATES`, so replicas (and a rolling restart) never take
 * each other's trust away. A configuration that does not exist yet is
 * reported and retried on the next round.
 */
import { AdmissionregistrationV1Api, ApiException, type KubeConfig } from '@kubernetes/client-node';
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
  patch: (operations: object[]) => Promise<unknown>;
}

/** How many CA certificates a caBundle keeps (replicas and restarts each add one). */
export const MAX_BUNDLE_CERTIFICATES = 5;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/**
 * The base64 caBundle holding `caPem` and, before it, the newest other
 * certificates of `existing` (at most MAX_BUNDLE_CERTIFICATES in all).
 * Returns `existing` unchanged when it already holds `caPem`.
 */
export function mergeCaBundle(existing: string | undefined, caPem: string): string {
  const normalize = (pem: string) => pem.replace(/\s+/g, '');
  const ours = caPem.match(PEM_CERTIFICATE)?.[0] ?? caPem.trim();
  const current = existing
    ? (Buffer.from(existing, 'base64').toString('utf8').match(PEM_CERTIFICATE) ?? [])
    : [];
  if (existing !== undefined && current.some((pem) => normalize(pem) === normalize(ours))) return existing;
  const kept = [...current.slice(-(MAX_BUNDLE_CERTIFICATES - 1)), ours];
  return Buffer.from(`${kept.join('\n')}\n`).toString('base64');
}

function reasonOf(error: unknown): string {
  if (error instanceof ApiException) return error.code === 404 ? 'not found' : `HTTP ${error.code}`;
  return error instanceof Error ? error.message : String(error);
}

/** Writes `caBundle` into both configurations once (up to 3 tries each on conflicts). Never throws. */
export async function syncCaBundles(options: CaBundleSyncOptions): Promise<CaBundleSyncResult> {
  const api = options.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const result: CaBundleSyncResult = { patched: [], unchanged: [], failed: [] };
  const mutating = options.mutatingName ?? INJECTOR_WEBHOOK_CONFIG;
  const validating = options.validatingName ?? VALIDATOR_WEBHOOK_CONFIG;
  const targets: Target[] = [
    {
      name: `MutatingWebhookConfiguration/${mutating}`,
      read: () => api.readMutatingWebhookConfiguration({ name: mutating }),
      patch: (body) => api.patchMutatingWebhookConfiguration({ name: mutating, body }),
    },
    {
      name: `ValidatingWebhookConfiguration/${validating}`,
      read: () => api.readValidatingWebhookConfiguration({ name: validating }),
      patch: (body) => api.patchValidatingWebhookConfiguration({ name: validating, body }),
    },
  ];
  for (const target of targets) {
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await target.read();
        const operations: object[] = [
          { op: 'test', path: '/metadata/resourceVersion', value: current.metadata?.resourceVersion },
        ];
        (current.webhooks ?? []).forEach((webhook, index) => {
          const merged = mergeCaBundle(webhook.clientConfig.caBundle, options.caPem);
          if (merged !== webhook.clientConfig.caBundle) {
            operations.push({ op: 'add', path: `/webhooks/${index}/clientConfig/caBundle`, value: merged });
          }
        });
        if (operations.length === 1) {
          result.unchanged.push(target.name);
          break;
        }
        await target.patch(operations);
        result.patched.push(target.name);
        options.logger?.info('webhook configuration now trusts the serving CA', { config: target.name });
        break;
      } catch (error) {
        // 409: a concurrent update; 422: our resourceVersion test failed. Read again.
        if (error instanceof ApiException && (error.code === 409 || error.code === 422) && attempt < 3)
          continue;
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

/**
 * The CA's Kubernetes connection: one kubeconfig loaded once and shared by
 * TokenReview, the CA Secret and the root-cert ConfigMap publisher.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { CaStartError } from '../signing/ca-errors.ts';

/**
 * Loads `path`, or the standard lookup (KUBECONFIG, ~/.kube/config,
 * in-cluster service account) when absent. Throws `CaStartError('kubeconfig')`.
 */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const config = new KubeConfig();
  try {
    if (path) config.loadFromFile(path);
    else config.loadFromDefault();
  } catch (cause) {
    throw new CaStartError('kubeconfig', `cannot load kubeconfig ${path ?? '(default)'}`, { cause });
  }
  if (!config.getCurrentCluster()) {
    throw new CaStartError('kubeconfig', `kubeconfig ${path ?? '(default)'} has no current cluster`);
  }
  return config;
}

/** The HTTP status of a failed API call (`ApiException.code`), or undefined for transport errors. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A one-line description of a failed API call for logs and errors. */
export function describeApiError(error: unknown): string {
  const status = apiStatus(error);
  let body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      body = undefined;
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  if (status !== undefined) return `HTTP ${status}${typeof message === 'string' ? `: ${message}` : ''}`;
  return (error as Error).message;
}

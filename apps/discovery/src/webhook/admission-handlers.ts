/**
 * The two admission handlers: `/inject` (mutating: adds the sidecar to pods)
 * and `/validate` (rejects invalid Istio resources with @weft/config's
 * messages). Neither fails closed on its own: a pod it cannot inject is
 * admitted unchanged, with a log line and a warning; whether an unreachable
 * webhook blocks admission is the webhook configuration's failurePolicy.
 */
import { formatProblem, validateObject } from '@weft/config';
import type { Logger } from '@weft/telemetry';
import type { AdmissionRequest, AdmissionResult } from './admission-review.ts';
import { decideInjection } from './sidecar-injection.ts';
import type { SidecarTemplateOptions } from './sidecar-template.ts';

/** The labels of a namespace, or undefined when it cannot be read (then only the pod's own opt-in counts). */
export type NamespaceLabelsLookup = (
  namespace: string,
) => Promise<Readonly<Record<string, string>> | undefined>;

export interface InjectHandlerOptions {
  template: SidecarTemplateOptions;
  namespaceLabels: NamespaceLabelsLookup;
  logger?: Logger;
}

/** Creates the `/inject` handler. */
export function createInjectHandler(
  options: InjectHandlerOptions,
): (request: AdmissionRequest) => Promise<AdmissionResult> {
  return async (request) => {
    const isPod = request.kind.group === '' && request.kind.kind === 'Pod';
    if (!isPod || request.operation !== 'CREATE') return { allowed: true };
    const object = request.object as
      | { metadata?: { namespace?: unknown; name?: unknown; generateName?: unknown } }
      | undefined;
    const namespace =
      request.namespace ??
      (typeof object?.metadata?.namespace === 'string' ? object.metadata.namespace : 'default');
    const podName = request.name ?? object?.metadata?.name ?? object?.metadata?.generateName ?? '';
    let labels: Readonly<Record<string, string>> | undefined;
    try {
      labels = await options.namespaceLabels(namespace);
    } catch (error) {
      options.logger?.warn('cannot read the namespace labels; deciding on the pod alone', {
        namespace,
        error,
      });
    }
    const decision = decideInjection(request.object, namespace, labels ?? {}, options.template);
    if (!decision.inject) {
      if (decision.problems) {
        options.logger?.warn('pod not injected', {
          namespace,
          pod: podName,
          reason: decision.reason,
          problems: decision.problems,
        });
        return { allowed: true, warnings: decision.problems.map((p) => `weft sidecar not injected: ${p}`) };
      }
      options.logger?.debug('pod not injected', { namespace, pod: podName, reason: decision.reason });
      return { allowed: true };
    }
    options.logger?.info('injecting sidecar', { namespace, pod: podName, dryRun: request.dryRun === true });
    return { allowed: true, patch: decision.patch };
  };
}

/**
 * The `/validate` handler: an Istio resource with errors is denied with every
 * problem as one line (`Kind namespace/name: field.path: reason`); warnings
 * are passed back as admission warnings. DELETE and objects outside the
 * Istio groups Weft reads are allowed.
 */
export function validateIstioRequest(request: AdmissionRequest): AdmissionResult {
  if (request.operation === 'DELETE' || request.object === undefined) return { allowed: true };
  const object = request.object as { metadata?: Record<string, unknown> };
  // The API server fills the namespace into the request; the object may leave it out.
  const withNamespace =
    request.namespace !== undefined && object.metadata && object.metadata.namespace === undefined
      ? { ...object, metadata: { ...object.metadata, namespace: request.namespace } }
      : object;
  const { problems } = validateObject(withNamespace);
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning').map(formatProblem);
  if (errors.length === 0) return { allowed: true, ...(warnings.length > 0 ? { warnings } : {}) };
  return {
    allowed: false,
    message: errors.map(formatProblem).join('\n'),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

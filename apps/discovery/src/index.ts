/**
 * weft-discovery: the Weft control plane, embeddable. Config sources feed a
 * store; each debounced change builds an immutable push context; each
 * connected proxy's resources are generated once per distinct proxy view and
 * served over xDS (ADS) from a snapshot cache; an HTTP port serves /ready,
 * /metrics and /debug/*.
 *
 * Owns: the serving pipeline, the debug endpoints, the CLI, the Kubernetes
 * source and the admission webhooks.
 * Must not depend on: other apps; Kubernetes outside `sources/` and `webhook/`.
 */
import { createProxyTranslator } from './proxy-translator.ts';
import {
  type DiscoveryOptions,
  type DiscoveryServer,
  startDiscoveryServer,
} from './serve/discovery-server.ts';

export type { DiscoveryOptions, DiscoveryServer, DiscoveryStartErrorCode } from './serve/discovery-server.ts';
export { DiscoveryStartError } from './serve/discovery-server.ts';
export type { HostPort } from './serve/host-port.ts';
export { formatHostPort, parseHostPort } from './serve/host-port.ts';
export type { ConfigSource } from './sources/config-source.ts';
export type { ConfigSourceSpec } from './sources/create-config-source.ts';
export { createConfigSource } from './sources/create-config-source.ts';
export type { DirectoryConfigSourceOptions } from './sources/directory-config-source.ts';
export { createDirectoryConfigSource } from './sources/directory-config-source.ts';
export type { KubeConfigSourceOptions } from './sources/kube/kube-config-source.ts';
export { createKubeConfigSource, KubeSourceError } from './sources/kube/kube-config-source.ts';
export type {
  FakeKubeApiServer,
  FakeKubeApiServerOptions,
  FakeObject,
  FakeResource,
} from './sources/kube/testing/fake-kube-api-server.ts';
export { startFakeKubeApiServer } from './sources/kube/testing/fake-kube-api-server.ts';
export type { AdmissionWebhooks, AdmissionWebhooksOptions } from './webhook/start-admission-webhooks.ts';
export { startAdmissionWebhooks } from './webhook/start-admission-webhooks.ts';
export { WebhookStartError } from './webhook/webhook-server.ts';

/**
 * Starts a discovery server with Weft's translation (Istio config to Envoy
 * resources). Resolves with the bound addresses once the config is loaded and
 * both ports listen; rejects with DiscoveryStartError otherwise.
 */
export function startDiscovery(options: DiscoveryOptions): Promise<DiscoveryServer> {
  return startDiscoveryServer({ ...options, translator: createProxyTranslator() });
}

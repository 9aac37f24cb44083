/**
 * Sidecar: schema and semantic checks.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/sidecar/
 */
import type { SidecarSpec } from '../resources/networking-types.ts';
import type { Reporter } from '../schema/reporter.ts';
import { array, enumOf, object, string } from '../schema/schema.ts';
import { connectionPool, destination, labels, listenerPort, serverTlsSettings } from './common-schemas.ts';
import { namespacedHostError } from './gateway-kind.ts';
import { type KindDefinition, NETWORKING_GROUP, NETWORKING_VERSIONS } from './kind-definition.ts';

const captureMode = enumOf(['DEFAULT', 'IPTABLES', 'NONE']);

const spec = object({
  workloadSelector: object({ labels }),
  ingress: array(
    object(
      {
        port: listenerPort(['number', 'protocol']),
        bind: string(),
        captureMode,
        defaultEndpoint: string(),
        tls: serverTlsSettings,
        connectionPool,
      },
      { required: ['port'] },
    ),
  ),
  egress: array(
    object(
      {
        port: listenerPort(['number', 'protocol']),
        bind: string(),
        captureMode,
        hosts: array(string(), { nonEmpty: true }),
      },
      { required: ['hosts'] },
    ),
  ),
  outboundTrafficPolicy: object({ mode: enumOf(['REGISTRY_ONLY', 'ALLOW_ANY']), egressProxy: destination }),
  inboundConnectionPool: connectionPool,
});

const DEFAULT_ENDPOINT = /^(?:127\.0\.0\.1|0\.0\.0\.0|\[::1\]|\[::\]):\d{1,5}$|^unix:\/\/.+$/;

function semantic(sidecar: SidecarSpec, { report }: { report: Reporter }): void {
  if (
    !sidecar.egress?.length &&
    !sidecar.ingress?.length &&
    !sidecar.outboundTrafficPolicy &&
    !sidecar.inboundConnectionPool
  ) {
    report.warning('spec', 'empty Sidecar: it changes nothing');
  }
  let catchAll = 0;
  sidecar.egress?.forEach((egress, i) => {
    const path = `spec.egress[${i}]`;
    egress.hosts.forEach((host, j) => {
      if (!host.includes('/')) {
        report.error(
          `${path}.hosts[${j}]`,
          `host ${JSON.stringify(host)} must be namespace/dnsName (use "*/${host}" for any namespace)`,
        );
        return;
      }
      const reason = namespacedHostError(host);
      if (reason) report.error(`${path}.hosts[${j}]`, reason);
    });
    if (!egress.port) catchAll++;
    if (!egress.port && catchAll > 1) report.error(path, 'only one egress listener may omit port');
  });
  sidecar.ingress?.forEach((ingress, i) => {
    const endpoint = ingress.defaultEndpoint;
    if (endpoint !== undefined && !DEFAULT_ENDPOINT.test(endpoint)) {
      report.error(
        `spec.ingress[${i}].defaultEndpoint`,
        `${JSON.stringify(endpoint)} must be 127.0.0.1:PORT, 0.0.0.0:PORT or unix://PATH`,
      );
    }
  });
  const policy = sidecar.outboundTrafficPolicy;
  if (policy?.egressProxy && policy.mode !== 'ALLOW_ANY') {
    report.error('spec.outboundTrafficPolicy.egressProxy', 'egressProxy is only allowed with mode ALLOW_ANY');
  }
}

export const sidecarKind: KindDefinition<'Sidecar'> = {
  kind: 'Sidecar',
  group: NETWORKING_GROUP,
  versions: NETWORKING_VERSIONS,
  spec,
  semantic,
};

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
  const egress = sidecar.egress ?? [];
  const catchAlls = egress.flatMap((listener, i) => (listener.port ? [] : [i]));
  if (catchAlls.length > 1)
    report.error(`spec.egress[${catchAlls[1]}]`, 'only one egress listener may omit port');
  else if (catchAlls.length === 1 && catchAlls[0] !== egress.length - 1) {
    report.error(`spec.egress[${catchAlls[0]}]`, 'the egress listener without port must be the last one');
  }
  const egressPorts = new Map<string, number>();
  egress.forEach((listener, i) => {
    const path = `spec.egress[${i}]`;
    const seen = new Set<string>();
    listener.hosts.forEach((host, j) => {
      if (!host.includes('/')) {
        report.error(
          `${path}.hosts[${j}]`,
          `host ${JSON.stringify(host)} must be namespace/dnsName (use "*/${host}" for any namespace)`,
        );
        return;
      }
      const reason = namespacedHostError(host);
      if (reason) report.error(`${path}.hosts[${j}]`, reason);
      if (seen.has(host)) report.warning(`${path}.hosts[${j}]`, `duplicate host ${JSON.stringify(host)}`);
      seen.add(host);
    });
    if (seen.has('*/*') && listener.hosts.length > 1)
      report.warning(`${path}.hosts`, '"*/*" already selects every host; the other entries add nothing');
    if (listener.port) {
      const key = `${listener.bind ?? ''}:${listener.port.number}`;
      const first = egressPorts.get(key);
      if (first !== undefined)
        report.error(
          `${path}.port.number`,
          `port ${listener.port.number} is already used by egress[${first}]`,
        );
      else egressPorts.set(key, i);
    }
  });
  const ingressPorts = new Map<string, number>();
  sidecar.ingress?.forEach((ingress, i) => {
    const path = `spec.ingress[${i}]`;
    const endpoint = ingress.defaultEndpoint;
    if (endpoint !== undefined && !DEFAULT_ENDPOINT.test(endpoint)) {
      report.error(
        `${path}.defaultEndpoint`,
        `${JSON.stringify(endpoint)} must be 127.0.0.1:PORT, 0.0.0.0:PORT or unix://PATH`,
      );
    }
    const key = `${ingress.bind ?? ''}:${ingress.port.number}`;
    const first = ingressPorts.get(key);
    if (first !== undefined)
      report.error(`${path}.port.number`, `port ${ingress.port.number} is already used by ingress[${first}]`);
    else ingressPorts.set(key, i);
    const tls = ingress.tls;
    if (tls) {
      const unsupported = (
        ['httpsRedirect', 'credentialName', 'credentialNames', 'tlsCertificates', 'subjectAltNames'] as const
      ).filter((f) => tls[f] !== undefined);
      if (unsupported.length > 0)
        report.error(`${path}.tls`, `not supported in Sidecar ingress TLS: ${unsupported.join(', ')}`);
      if (tls.mode === 'ISTIO_MUTUAL' || tls.mode === 'AUTO_PASSTHROUGH' || tls.mode === 'PASSTHROUGH') {
        report.error(`${path}.tls.mode`, `${tls.mode} is not allowed in Sidecar ingress TLS`);
      }
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

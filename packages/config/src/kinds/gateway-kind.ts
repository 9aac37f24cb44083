/**
 * Gateway: schema and semantic checks.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/gateway/
 */
import type { GatewaySpec } from '../resources/networking-types.ts';
import { isDns1123Label, wildcardHostError } from '../schema/checks.ts';
import type { Reporter } from '../schema/reporter.ts';
import { array, object, string } from '../schema/schema.ts';
import { labels, listenerPort, serverTlsSettings } from './common-schemas.ts';
import { type KindDefinition, NETWORKING_GROUP, NETWORKING_VERSIONS } from './kind-definition.ts';

const server = object(
  {
    port: listenerPort(['number', 'protocol']),
    bind: string(),
    hosts: array(string(), { nonEmpty: true }),
    tls: serverTlsSettings,
    defaultEndpoint: string(),
    name: string(),
  },
  { required: ['port', 'hosts'] },
);

const spec = object(
  { servers: array(server, { nonEmpty: true }), selector: labels },
  { required: ['servers'] },
);

/**
 * `[namespace/]host`: namespace is `*`, `.` or a name; host is a host name
 * with an optional leading wildcard.
 */
export function namespacedHostError(value: string): string | undefined {
  const slash = value.indexOf('/');
  const namespace = slash === -1 ? undefined : value.slice(0, slash);
  const host = slash === -1 ? value : value.slice(slash + 1);
  // `~ns/` excludes hosts of a namespace (Sidecar egress); a bare `~` means any namespace.
  const name = namespace?.startsWith('~') && namespace.length > 1 ? namespace.slice(1) : namespace;
  if (name !== undefined && name !== '*' && name !== '.' && name !== '~' && !isDns1123Label(name)) {
    return `invalid namespace ${JSON.stringify(namespace)} in ${JSON.stringify(value)}: expected "*", ".", "~" or a namespace name`;
  }
  return host === '*' ? undefined : wildcardHostError(host);
}

const TLS_PROTOCOLS = new Set(['HTTPS', 'TLS']);

function semantic(gateway: GatewaySpec, { report }: { report: Reporter }): void {
  const portNames = new Map<string, number>();
  gateway.servers.forEach((server, i) => {
    const path = `spec.servers[${i}]`;
    server.hosts.forEach((host, j) => {
      const reason = namespacedHostError(host);
      if (reason) report.error(`${path}.hosts[${j}]`, reason);
    });
    const protocol = server.port.protocol.toUpperCase();
    if (TLS_PROTOCOLS.has(protocol)) {
      if (!server.tls) report.error(`${path}.tls`, `required for protocol ${protocol}`);
      const mode = server.tls?.mode ?? 'SIMPLE';
      const tls = server.tls ?? {};
      if ((mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') && server.tls) {
        const hasFiles = tls.serverCertificate !== undefined && tls.privateKey !== undefined;
        if (!hasFiles && tls.credentialName === undefined && !tls.credentialNames?.length) {
          report.error(`${path}.tls`, `${mode} requires credentialName, or serverCertificate and privateKey`);
        }
      }
    } else if (server.tls && !server.tls.httpsRedirect) {
      report.error(`${path}.tls`, `TLS settings on a ${protocol} server are only allowed for httpsRedirect`);
    }
    const name = server.port.name;
    if (name !== undefined) {
      const first = portNames.get(name);
      if (first !== undefined && first !== server.port.number) {
        report.error(
          `${path}.port.name`,
          `port name ${JSON.stringify(name)} is already used by port ${first}`,
        );
      }
      portNames.set(name, server.port.number);
    }
  });
}

export const gatewayKind: KindDefinition<'Gateway'> = {
  kind: 'Gateway',
  group: NETWORKING_GROUP,
  versions: NETWORKING_VERSIONS,
  spec,
  semantic,
};

/**
 * Gateway: schema and semantic checks.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/gateway/
 */
import type { GatewaySpec, ServerTLSSettings } from '../resources/networking-types.ts';
import { isDns1123Label, wildcardHostError } from '../schema/checks.ts';
import type { Reporter } from '../schema/reporter.ts';
import { array, object, string } from '../schema/schema.ts';
import { labels, listenerPort, serverTlsSettings } from './common-schemas.ts';
import { type KindDefinition, NETWORKING_GROUP, NETWORKING_VERSIONS } from './kind-definition.ts';

const server = object(
  {
    port: listenerPort(['number', 'protocol', 'name']),
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
const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);
const TERMINATING_MODES = new Set(['SIMPLE', 'MUTUAL', 'OPTIONAL_MUTUAL']);

/** Server TLS settings as Istio checks them: one certificate source, what each mode needs, CRL limits. */
export function checkServerTls(tls: ServerTLSSettings, path: string, report: Reporter): void {
  const mode = tls.mode ?? 'PASSTHROUGH';
  const files = tls.serverCertificate !== undefined || tls.privateKey !== undefined;
  const credential = tls.credentialName !== undefined || (tls.credentialNames?.length ?? 0) > 0;
  const sources = [
    tls.serverCertificate !== undefined && tls.privateKey !== undefined,
    tls.credentialName !== undefined,
    (tls.credentialNames?.length ?? 0) > 0,
    (tls.tlsCertificates?.length ?? 0) > 0,
  ].filter(Boolean).length;
  if (sources > 1) {
    report.error(
      path,
      'only one of credentialName, credentialNames, serverCertificate/privateKey, tlsCertificates may be set',
    );
  }
  if (
    mode === 'ISTIO_MUTUAL' &&
    (files || credential || tls.caCertificates !== undefined || tls.tlsCertificates?.length)
  ) {
    report.error(
      path,
      "ISTIO_MUTUAL uses the mesh's certificates: no certificates, keys or credentials may be set",
    );
  }
  if (
    (mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') &&
    (files || credential || tls.caCertificates !== undefined || tls.tlsCertificates?.length)
  ) {
    report.warning(path, `${mode} does not terminate TLS: the certificates are ignored`);
  }
  if (TERMINATING_MODES.has(mode) && !credential) {
    const certs = tls.tlsCertificates?.length
      ? tls.tlsCertificates
      : [{ serverCertificate: tls.serverCertificate, privateKey: tls.privateKey }];
    if (certs.some((c) => c.serverCertificate === undefined || c.privateKey === undefined)) {
      report.error(path, `${mode} requires credentialName, or serverCertificate and privateKey`);
    }
    if (mode !== 'SIMPLE' && tls.caCertificates === undefined)
      report.error(path, `${mode} requires caCertificates (the client CA bundle)`);
  }
  if ((tls.tlsCertificates?.length ?? 0) > 2)
    report.warning(`${path}.tlsCertificates`, 'at most 2 server certificates are used');
  if (tls.caCrl !== undefined && tls.credentialName !== undefined) {
    report.error(`${path}.caCrl`, 'not supported with credentialName: put the CRL in the credential');
  }
  if (tls.caCrl !== undefined && mode === 'SIMPLE')
    report.error(`${path}.caCrl`, 'not supported with SIMPLE TLS');
}

function semantic(gateway: GatewaySpec, { report }: { report: Reporter }): void {
  const portNames = new Map<string, number>();
  gateway.servers.forEach((server, i) => {
    const path = `spec.servers[${i}]`;
    server.hosts.forEach((host, j) => {
      const reason = namespacedHostError(host);
      if (reason) report.error(`${path}.hosts[${j}]`, reason);
    });
    const protocol = server.port.protocol.toUpperCase();
    const tls = server.tls;
    if (TLS_PROTOCOLS.has(protocol)) {
      if (!tls) report.error(`${path}.tls`, `required for protocol ${protocol}`);
      else checkServerTls(tls, `${path}.tls`, report);
    } else if (tls) {
      const redirectOnly =
        tls.httpsRedirect === true && Object.keys(tls).every((k) => k === 'httpsRedirect' || k === 'mode');
      if (!HTTP_PROTOCOLS.has(protocol))
        report.error(`${path}.tls`, `a ${protocol} server cannot have TLS settings`);
      else if (!redirectOnly)
        report.error(`${path}.tls`, `a plain-text ${protocol} server may only set tls.httpsRedirect`);
    }
    if (tls?.httpsRedirect && protocol !== 'HTTP') {
      report.warning(`${path}.tls.httpsRedirect`, 'only has an effect on HTTP servers');
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

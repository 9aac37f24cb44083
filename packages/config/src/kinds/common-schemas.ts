/** Schema pieces several kinds share (StringMatch, labels, destinations, TLS, connection pools). */

import { PROTOCOL_NAMES, parseProtocol } from '../mesh/protocol.ts';
import {
  hostNameError,
  isDns1123Label,
  isDns1123Subdomain,
  labelKeyError,
  labelValueError,
  regexError,
  reportIf,
  wildcardHostError,
} from '../schema/checks.ts';
import type { Reporter } from '../schema/reporter.ts';
import {
  array,
  boolean,
  duration,
  enumOf,
  map,
  number,
  object,
  portNumber,
  type Schema,
  string,
  stringList,
  uint32,
} from '../schema/schema.ts';

/** `{exact}|{prefix}|{regex}`; the regex must compile. An empty match `{}` means "present". */
export const stringMatch = object(
  { exact: string(), prefix: string(), regex: string({ check: reportIf(regexError) }) },
  {
    exclusive: [['exact', 'prefix', 'regex']],
    rule: 'prefix not empty (except for uri)',
    check: (match, path, report) => {
      if (match.prefix === '' && !path.endsWith('.uri'))
        report.error(`${path}.prefix`, 'must not be empty (an empty prefix is only allowed for uri)');
    },
  },
);

/** A `withoutHeaders` match, where `regex: "*"` means "header present" rather than a regex. */
export const withoutHeaderMatch = object(
  {
    exact: string(),
    prefix: string({ nonEmpty: true }),
    regex: string({
      check: (value, path, report) => (value === '*' ? undefined : reportIf(regexError)(value, path, report)),
    }),
  },
  { exclusive: [['exact', 'prefix', 'regex']] },
);

/** Kubernetes labels: keys and values checked. */
export const labels = map(string({ check: reportIf(labelValueError) }), { key: reportIf(labelKeyError) });

export const portSelector = object({ number: portNumber() });

/** A host name that may start with a wildcard label. */
export const wildcardHost = string({ check: reportIf(wildcardHostError) });
/** A host name without wildcards. */
export const host = string({ check: reportIf(hostNameError) });

export const destination = object(
  {
    host: string({
      nonEmpty: true,
      rule: 'host name, a wildcard only as the first label; not `*` alone',
      check: (host, path, report) => {
        const reason = host === '*' ? 'destination host cannot be "*"' : wildcardHostError(host);
        if (reason) report.error(path, reason);
      },
    }),
    subset: string({
      rule: 'DNS-1123 label',
      check: (subset, path, report) => {
        if (!isDns1123Label(subset))
          report.error(path, `subset name ${JSON.stringify(subset)} must be a DNS-1123 label`);
      },
    }),
    port: portSelector,
  },
  { required: ['host'] },
);

/** A percentage 0..100 as `{value}`. */
export const percent = object({ value: number({ min: 0, max: 100 }) });

export const clientTlsSettings = object(
  {
    mode: enumOf(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']),
    clientCertificate: string(),
    privateKey: string(),
    caCertificates: string(),
    credentialName: string(),
    subjectAltNames: stringList(),
    sni: string(),
    insecureSkipVerify: boolean(),
    caCrl: string(),
  },
  {
    check: checkClientTls,
    rule: 'MUTUAL needs clientCertificate+privateKey or credentialName; ISTIO_MUTUAL takes no certificate fields',
  },
);

function checkClientTls(tls: Record<string, unknown>, path: string, report: Reporter): void {
  const files = ['clientCertificate', 'privateKey', 'caCertificates', 'credentialName'].filter(
    (f) => tls[f] !== undefined,
  );
  if (tls.mode === 'ISTIO_MUTUAL' && files.length > 0) {
    report.error(path, `ISTIO_MUTUAL uses the mesh's certificates: ${files.join(', ')} must not be set`);
  }
  if (
    tls.mode === 'MUTUAL' &&
    tls.credentialName === undefined &&
    (tls.clientCertificate === undefined || tls.privateKey === undefined)
  ) {
    report.error(path, 'MUTUAL requires clientCertificate and privateKey, or credentialName');
  }
}

export const serverTlsSettings = object({
  httpsRedirect: boolean(),
  mode: enumOf(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL']),
  serverCertificate: string(),
  privateKey: string(),
  caCertificates: string(),
  caCrl: string(),
  credentialName: string(),
  credentialNames: stringList(),
  subjectAltNames: stringList(),
  verifyCertificateSpki: stringList(),
  verifyCertificateHash: stringList(),
  minProtocolVersion: enumOf(['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3']),
  maxProtocolVersion: enumOf(['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3']),
  cipherSuites: stringList(),
  caCertCredentialName: string(),
  tlsCertificates: array(
    object({ serverCertificate: string(), privateKey: string(), caCertificates: string() }),
  ),
});

export const connectionPool = object(
  {
    tcp: object({
      maxConnections: uint32({ min: 1, max: 0x7fff_ffff }),
      connectTimeout: duration({ minMs: 1 }),
      tcpKeepalive: object({
        probes: uint32(),
        time: duration({ minMs: 1 }),
        interval: duration({ minMs: 1 }),
      }),
      maxConnectionDuration: duration({ minMs: 1 }),
      idleTimeout: duration(),
    }),
    http: object({
      http1MaxPendingRequests: uint32({ max: 0x7fff_ffff }),
      http2MaxRequests: uint32({ max: 0x7fff_ffff }),
      maxRequestsPerConnection: uint32({ max: 0x7fff_ffff }),
      maxRetries: uint32({ max: 0x7fff_ffff }),
      idleTimeout: duration({ minMs: 1 }),
      h2UpgradePolicy: enumOf(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']),
      useClientProtocol: boolean(),
      maxConcurrentStreams: uint32({ max: 0x7fff_ffff }),
      http2KeepAlive: object(
        { time: duration({ minMs: 1 }), timeout: duration({ minMs: 1 }), interval: duration({ minMs: 1 }) },
        { required: ['interval', 'timeout'] },
      ),
    }),
  },
  {
    rule: 'not empty; useClientProtocol not with h2UpgradePolicy UPGRADE',
    check: (pool, path, report) => {
      if (Object.keys(pool).length === 0) report.error(path, 'must set at least one of tcp, http');
      const http = pool.http as { h2UpgradePolicy?: string; useClientProtocol?: boolean } | undefined;
      if (http?.h2UpgradePolicy === 'UPGRADE' && http.useClientProtocol) {
        report.error(`${path}.http`, 'useClientProtocol cannot be true with h2UpgradePolicy UPGRADE');
      }
    },
  },
);

/** An Istio protocol name, case-insensitive (`HTTP`, `http2`, `GRPC`, `TCP`, ...). */
export const protocolName = string({
  rule: 'an Istio protocol name, any case',
  check: (value, path, report) => {
    if (value !== '' && !parseProtocol(value)) {
      report.error(
        path,
        `unknown protocol ${JSON.stringify(value)}; expected one of ${PROTOCOL_NAMES.join(', ')}`,
      );
    }
  },
});

/** A gateway or sidecar listener port: number, protocol and name. */
export const listenerPort = (required: readonly string[]): Schema =>
  object(
    {
      number: portNumber(),
      protocol: protocolName,
      name: string(),
      targetPort: portNumber({
        rule: 'not allowed: it has no effect on listeners',
        check: (_port, path, report) =>
          report.error(path, 'targetPort has no effect on Gateway and Sidecar listeners'),
      }),
    },
    { required },
  );

/** `{matchLabels}`, the selector of security policies. */
export const labelSelector = object({ matchLabels: labels });

export const policyTargetReference = object(
  {
    group: string({
      rule: "'' or a DNS subdomain",
      check: (group, path, report) => {
        if (group !== '' && !isDns1123Subdomain(group))
          report.error(path, `invalid group ${JSON.stringify(group)}`);
      },
    }),
    kind: string({
      nonEmpty: true,
      rule: 'a Kubernetes kind name',
      check: (kind, path, report) => {
        if (!/^[A-Za-z](?:[-A-Za-z0-9]*[A-Za-z0-9])?$/.test(kind))
          report.error(path, `invalid kind ${JSON.stringify(kind)}`);
      },
    }),
    name: string({ nonEmpty: true }),
    namespace: string(),
  },
  { required: ['kind', 'name'] },
);

/** Policies attach to workloads of their own namespace: a `targetRef(s)` namespace must be that namespace. */
export function checkTargetRefNamespaces(
  spec: { targetRef?: { namespace?: string }; targetRefs?: { namespace?: string }[] },
  namespace: string,
  report: Reporter,
): void {
  const refs: [{ namespace?: string }, string][] = [];
  if (spec.targetRef) refs.push([spec.targetRef, 'spec.targetRef']);
  spec.targetRefs?.forEach((ref, i) => {
    refs.push([ref, `spec.targetRefs[${i}]`]);
  });
  for (const [ref, path] of refs) {
    if (ref.namespace !== undefined && ref.namespace !== '' && ref.namespace !== namespace) {
      report.error(
        `${path}.namespace`,
        `cross-namespace references are not supported (policy is in ${namespace})`,
      );
    }
  }
}

/**
 * `exportTo` as Istio reads it: `.` (this namespace), `*` (everyone), a
 * namespace name, or `~` (no one; ServiceEntry only). No duplicates (`.` is
 * the object's own namespace), `*` and `~` stand alone, and a DestinationRule
 * with a workloadSelector is exported to its own namespace only.
 */
export function checkExportTo(
  exportTo: readonly string[] | undefined,
  namespace: string,
  options: { serviceEntry?: boolean; workloadSelector?: boolean },
  report: Reporter,
): void {
  if (!exportTo?.length) return;
  const seen = new Set<string>();
  exportTo.forEach((entry, i) => {
    const path = `spec.exportTo[${i}]`;
    const key = entry === '.' ? namespace : entry;
    if (seen.has(key)) {
      report.error(
        path,
        entry === key ? `duplicate entry ${JSON.stringify(entry)}` : `"." duplicates namespace ${namespace}`,
      );
      return;
    }
    seen.add(key);
    const valid =
      entry === '.' || entry === '*' || (entry === '~' && options.serviceEntry) || isDns1123Label(entry);
    if (!valid)
      report.error(
        path,
        `${JSON.stringify(entry)} is not ".", "*"${options.serviceEntry ? ', "~"' : ''} or a namespace name`,
      );
  });
  if (exportTo.length > 1 && seen.has('*'))
    report.error('spec.exportTo', '"*" cannot be combined with other entries');
  if (exportTo.length > 1 && seen.has('~'))
    report.error('spec.exportTo', '"~" (no one) cannot be combined with other entries');
  if (options.workloadSelector && (exportTo.length > 1 || !seen.has(namespace))) {
    report.error(
      'spec.exportTo',
      'a DestinationRule with a workloadSelector can only be exported to its own namespace',
    );
  }
}

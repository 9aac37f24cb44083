/**
 * ServiceEntry and WorkloadEntry: schemas and semantic checks.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/service-entry/
 * @see https://istio.io/latest/docs/reference/config/networking/workload-entry/
 */
import type { ServiceEntrySpec, WorkloadEntrySpec } from '../resources/networking-types.ts';
import { cidrError, hostNameError, isIpAddress, reportIf, wildcardHostError } from '../schema/checks.ts';
import type { Reporter } from '../schema/reporter.ts';
import { array, enumOf, map, object, portNumber, string, stringList, uint32 } from '../schema/schema.ts';
import { checkExportTo, labels, protocolName } from './common-schemas.ts';
import { type KindDefinition, NETWORKING_GROUP, NETWORKING_VERSIONS } from './kind-definition.ts';

/** Port names are labels of letters, digits, '-', '_' and '.'. */
function portNameError(name: string): string | undefined {
  return /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name) && name.length <= 63
    ? undefined
    : `invalid port name ${JSON.stringify(name)}`;
}

const LOCALITY = /^[^/]*(?:\/[^/]*){0,2}$/;

const workloadEntrySpec = object({
  address: string(),
  ports: map(portNumber(), { key: reportIf(portNameError) }),
  labels,
  network: string(),
  locality: string({
    rule: '`region/zone/subzone`',
    check: (value, path, report) => {
      if (!LOCALITY.test(value))
        report.error(path, `locality ${JSON.stringify(value)} must be region/zone/subzone`);
    },
  }),
  weight: uint32(),
  serviceAccount: string(),
});

const serviceEntrySpec = object(
  {
    hosts: array(
      string({
        rule: 'host name; a wildcard only as the first label, and not `*` alone',
        check: (host, path, report) => {
          const reason = host === '*' ? 'host "*" is not allowed in a ServiceEntry' : wildcardHostError(host);
          if (reason) report.error(path, reason);
        },
      }),
      { nonEmpty: true },
    ),
    addresses: array(string({ check: reportIf(cidrError) })),
    ports: array(
      object(
        {
          number: portNumber(),
          protocol: protocolName,
          name: string({ nonEmpty: true }),
          targetPort: portNumber(),
        },
        { required: ['number', 'name'] },
      ),
    ),
    location: enumOf(['MESH_EXTERNAL', 'MESH_INTERNAL']),
    resolution: enumOf(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN']),
    endpoints: array(workloadEntrySpec),
    workloadSelector: object({ labels }),
    exportTo: stringList(),
    subjectAltNames: stringList(),
  },
  { required: ['hosts'], exclusive: [['endpoints', 'workloadSelector']] },
);

/** Why `address` is not a workload address for `resolution`, or undefined. */
/** Why a `unix://` address is not a socket path (absolute, or abstract `@name`), or undefined. */
function unixAddressError(address: string): string | undefined {
  const path = address.slice('unix://'.length);
  if (!path.startsWith('/') && !path.startsWith('@'))
    return `${JSON.stringify(address)}: a unix socket path must be absolute or abstract (@name)`;
  if (path.endsWith('/') || path === '@')
    return `${JSON.stringify(address)}: a unix socket path must name a socket, not a directory`;
  return undefined;
}

function addressError(address: string, resolution: string): string | undefined {
  if (address.startsWith('unix://')) return unixAddressError(address);
  if (isIpAddress(address)) return undefined;
  if (resolution === 'STATIC' || resolution === 'NONE') {
    return `address ${JSON.stringify(address)} must be an IP address or unix:// path with resolution ${resolution}`;
  }
  return hostNameError(address);
}

function checkEndpoint(
  endpoint: WorkloadEntrySpec,
  path: string,
  resolution: string,
  portNames: ReadonlySet<string> | undefined,
  report: Reporter,
): void {
  if (endpoint.address === undefined) {
    if (endpoint.network === undefined)
      report.error(`${path}.address`, 'required (unless network names a remote network)');
  } else {
    const reason = addressError(endpoint.address, resolution);
    if (reason) report.error(`${path}.address`, reason);
    if (endpoint.address.startsWith('unix://') && Object.keys(endpoint.ports ?? {}).length > 0) {
      report.error(`${path}.ports`, 'a unix socket address takes no ports');
    }
  }
  if (portNames) {
    for (const name of Object.keys(endpoint.ports ?? {})) {
      if (!portNames.has(name))
        report.error(
          `${path}.ports.${name}`,
          `port name ${JSON.stringify(name)} is not declared in spec.ports`,
        );
    }
  }
}

function semanticServiceEntry(
  se: ServiceEntrySpec,
  { report, namespace }: { report: Reporter; namespace: string },
): void {
  checkExportTo(se.exportTo, namespace, { serviceEntry: true }, report);
  const resolution = se.resolution ?? 'NONE';
  if (resolution !== 'NONE' && resolution !== 'STATIC') {
    se.addresses?.forEach((address, i) => {
      if (address.includes('/'))
        report.error(
          `spec.addresses[${i}]`,
          `CIDR ${JSON.stringify(address)} is only allowed with resolution NONE or STATIC`,
        );
    });
  }
  const names = new Set<string>();
  const numbers = new Set<number>();
  se.ports?.forEach((port, i) => {
    if (names.has(port.name))
      report.error(`spec.ports[${i}].name`, `duplicate port name ${JSON.stringify(port.name)}`);
    if (numbers.has(port.number))
      report.error(`spec.ports[${i}].number`, `duplicate port number ${port.number}`);
    names.add(port.name);
    numbers.add(port.number);
  });
  if (resolution === 'NONE' && se.endpoints?.length) {
    report.error('spec.endpoints', 'endpoints must not be set with resolution NONE');
  }
  if (resolution === 'STATIC' && !se.endpoints?.length && !se.workloadSelector) {
    report.error('spec', 'resolution STATIC needs endpoints or a workloadSelector');
  }
  if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && !se.endpoints?.length) {
    se.hosts.forEach((host, i) => {
      if (host.startsWith('*')) {
        report.error(
          `spec.hosts[${i}]`,
          `wildcard host ${JSON.stringify(host)} cannot be resolved with DNS when no endpoints are given`,
        );
      }
    });
  }
  if (resolution === 'DNS_ROUND_ROBIN' && (se.endpoints?.length ?? 0) > 1) {
    report.error('spec.endpoints', 'resolution DNS_ROUND_ROBIN allows at most one endpoint');
  }
  se.endpoints?.forEach((endpoint, i) => {
    checkEndpoint(endpoint, `spec.endpoints[${i}]`, resolution, names, report);
  });
}

function semanticWorkloadEntry(we: WorkloadEntrySpec, { report }: { report: Reporter }): void {
  checkEndpoint(we, 'spec', 'DNS', undefined, report);
}

export const serviceEntryKind: KindDefinition<'ServiceEntry'> = {
  kind: 'ServiceEntry',
  group: NETWORKING_GROUP,
  versions: NETWORKING_VERSIONS,
  spec: serviceEntrySpec,
  semantic: semanticServiceEntry,
};

export const workloadEntryKind: KindDefinition<'WorkloadEntry'> = {
  kind: 'WorkloadEntry',
  group: NETWORKING_GROUP,
  versions: NETWORKING_VERSIONS,
  spec: workloadEntrySpec,
  semantic: semanticWorkloadEntry,
};

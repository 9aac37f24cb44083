/**
 * DestinationRule: schema and semantic checks.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/
 */
import type { DestinationRuleSpec, TrafficPolicy } from '../resources/networking-types.ts';
import { isDns1123Label, reportIf, wildcardHostError } from '../schema/checks.ts';
import type { Reporter } from '../schema/reporter.ts';
import {
  array,
  boolean,
  duration,
  enumOf,
  integer,
  map,
  number,
  object,
  string,
  stringList,
  uint32,
} from '../schema/schema.ts';
import { checkExportTo, clientTlsSettings, connectionPool, labels, portSelector } from './common-schemas.ts';
import { type KindDefinition, NETWORKING_GROUP, NETWORKING_VERSIONS } from './kind-definition.ts';

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

const consistentHash = object(
  {
    httpHeaderName: string({ nonEmpty: true }),
    httpCookie: object(
      {
        name: string({ nonEmpty: true }),
        path: string(),
        ttl: duration(),
        attributes: array(
          object({ name: string({ nonEmpty: true }), value: string() }, { required: ['name'] }),
        ),
      },
      { required: ['name'] },
    ),
    useSourceIp: boolean(),
    httpQueryParameterName: string({ nonEmpty: true }),
    ringHash: object({ minimumRingSize: uint32() }),
    maglev: object(
      {
        tableSize: integer({
          min: 1,
          max: 5_000_010,
          rule: 'a prime number below 5000011',
          check: (size, path, report) => {
            if (!isPrime(size)) report.error(path, `${size} is not a prime number`);
          },
        }),
      },
      { required: ['tableSize'] },
    ),
    minimumRingSize: uint32({ deprecated: 'use ringHash.minimumRingSize' }),
  },
  {
    exclusive: [
      ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'],
      ['ringHash', 'maglev', 'minimumRingSize'],
    ],
    rule: 'exactly one hash key',
    check: (hash, path, report) => {
      if (
        !['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'].some(
          (k) => hash[k] !== undefined,
        )
      ) {
        report.error(
          path,
          'one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName must be set',
        );
      }
    },
  },
);

const localityLbSetting = object(
  {
    distribute: array(
      object({
        from: string(),
        to: map(uint32(), {}),
      }),
    ),
    failover: array(object({ from: string(), to: string() })),
    failoverPriority: stringList(),
    enabled: boolean(),
  },
  {
    exclusive: [['distribute', 'failover']],
    rule: 'each `distribute[].to` sums to 100',
    check: (setting, path, report) => {
      const distribute = (setting.distribute ?? []) as { to?: Record<string, number> }[];
      distribute.forEach((d, i) => {
        const sum = Object.values(d.to ?? {}).reduce((a, b) => a + b, 0);
        if (sum !== 100) report.error(`${path}.distribute[${i}].to`, `weights must sum to 100, got ${sum}`);
      });
    },
  },
);

const loadBalancer = object(
  {
    simple: enumOf(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST']),
    consistentHash,
    localityLbSetting,
    zoneAwareLbSetting: object({
      enabled: boolean(),
      failover: array(object({ from: string(), to: string() })),
      failoverPriority: stringList(),
      minClusterSize: integer({ min: 0 }),
    }),
    warmupDurationSecs: duration({ deprecated: 'use warmup.duration' }),
    warmup: object(
      {
        duration: duration({ minMs: 1 }),
        minimumPercent: number({ min: 0, max: 100 }),
        aggression: number({
          rule: '> 0',
          check: (value, path, report) => {
            if (value <= 0) report.error(path, `${value} must be greater than 0`);
          },
        }),
      },
      { required: ['duration'] },
    ),
  },
  {
    exclusive: [
      ['simple', 'consistentHash'],
      ['localityLbSetting', 'zoneAwareLbSetting'],
      ['warmup', 'warmupDurationSecs'],
    ],
  },
);

const outlierDetection = object({
  splitExternalLocalOriginErrors: boolean(),
  consecutiveLocalOriginFailures: uint32(),
  consecutiveGatewayErrors: uint32(),
  consecutive5xxErrors: uint32(),
  consecutiveErrors: uint32({ deprecated: 'use consecutive5xxErrors' }),
  interval: duration({ minMs: 1 }),
  baseEjectionTime: duration({ minMs: 1 }),
  maxEjectionPercent: number({ min: 0, max: 100 }),
  minHealthPercent: number({ min: 0, max: 100 }),
  outlierDetectionHttpErrorCodes: array(integer({ min: 100, max: 599 })),
});

const portTrafficPolicy = object(
  { port: portSelector, loadBalancer, connectionPool, outlierDetection, tls: clientTlsSettings },
  {
    required: ['port'],
    rule: 'sets a policy besides port',
    check: (policy, path, report) => {
      if (Object.keys(policy).every((k) => k === 'port')) report.error(path, 'sets no policy for the port');
    },
  },
);

const trafficPolicyFields = {
  loadBalancer,
  connectionPool,
  outlierDetection,
  tls: clientTlsSettings,
  portLevelSettings: array(portTrafficPolicy),
  tunnel: object(
    {
      protocol: enumOf(['CONNECT', 'POST']),
      targetHost: string({ nonEmpty: true }),
      targetPort: uint32({ min: 1, max: 65535 }),
    },
    { required: ['targetHost', 'targetPort'], ignored: 'tunnel settings are not supported' },
  ),
  retryBudget: object({
    percent: number({ min: 0, max: 100 }),
    minRetryConcurrency: uint32(),
    budgetInterval: duration({ minMs: 1 }),
  }),
  proxyProtocol: object({ version: enumOf(['V1', 'V2']) }, { ignored: 'proxyProtocol is not supported' }),
};
const trafficPolicy = object(trafficPolicyFields, {
  rule: 'not empty; not both tunnel and proxyProtocol',
  check: (policy, path, report) => {
    if (Object.keys(policy).length === 0) report.error(path, 'must set at least one field');
    if (policy.tunnel !== undefined && policy.proxyProtocol !== undefined)
      report.error(path, 'tunnel and proxyProtocol cannot both be set');
  },
});

const spec = object(
  {
    host: string({ nonEmpty: true, check: reportIf(wildcardHostError) }),
    trafficPolicy,
    subsets: array(
      object({ name: string({ nonEmpty: true }), labels, trafficPolicy }, { required: ['name'] }),
    ),
    exportTo: stringList(),
    workloadSelector: object({ matchLabels: labels }),
  },
  { required: ['host'] },
);

function checkTrafficPolicy(policy: TrafficPolicy | undefined, path: string, report: Reporter): void {
  const seen = new Set<number>();
  policy?.portLevelSettings?.forEach((setting, i) => {
    const number = setting.port?.number;
    if (number === undefined) return;
    if (seen.has(number))
      report.error(`${path}.portLevelSettings[${i}].port.number`, `port ${number} is listed twice`);
    seen.add(number);
  });
}

function semantic(
  dr: DestinationRuleSpec,
  { report, namespace }: { report: Reporter; namespace: string },
): void {
  checkExportTo(dr.exportTo, namespace, { workloadSelector: dr.workloadSelector !== undefined }, report);
  checkTrafficPolicy(dr.trafficPolicy, 'spec.trafficPolicy', report);
  const names = new Set<string>();
  dr.subsets?.forEach((subset, i) => {
    const path = `spec.subsets[${i}]`;
    if (!isDns1123Label(subset.name))
      report.error(`${path}.name`, `subset name ${JSON.stringify(subset.name)} must be a DNS-1123 label`);
    if (names.has(subset.name))
      report.error(`${path}.name`, `duplicate subset name ${JSON.stringify(subset.name)}`);
    names.add(subset.name);
    checkTrafficPolicy(subset.trafficPolicy, `${path}.trafficPolicy`, report);
  });
}

export const destinationRuleKind: KindDefinition<'DestinationRule'> = {
  kind: 'DestinationRule',
  group: NETWORKING_GROUP,
  versions: NETWORKING_VERSIONS,
  spec,
  semantic,
};

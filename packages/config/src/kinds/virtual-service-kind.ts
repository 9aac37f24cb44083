/**
 * VirtualService: schema and semantic checks.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/
 */
import type { HTTPRoute, RouteDestination, VirtualServiceSpec } from '../resources/networking-types.ts';
import {
  headerNameError,
  headerOperationNameError,
  headerValueError,
  isDns1123Label,
  isIpAddress,
  matchHeaderNameError,
  regexError,
  reportIf,
  wildcardHostError,
} from '../schema/checks.ts';
import { indexPath, type Reporter } from '../schema/reporter.ts';
import {
  array,
  boolean,
  duration,
  enumOf,
  integer,
  map,
  object,
  portNumber,
  string,
  stringList,
  uint32,
} from '../schema/schema.ts';
import {
  checkExportTo,
  destination,
  labels,
  percent,
  stringMatch,
  withoutHeaderMatch,
} from './common-schemas.ts';
import { type KindDefinition, NETWORKING_GROUP, NETWORKING_VERSIONS } from './kind-definition.ts';

const headerValue = string({ check: reportIf(headerValueError) });
const operationName = (allowAuthority: boolean) =>
  reportIf((name: string) => headerOperationNameError(name, allowAuthority));
const requestHeaderOperations = object({
  set: map(headerValue, { key: operationName(true) }),
  add: map(headerValue, { key: operationName(true) }),
  remove: array(string({ check: operationName(false) })),
});
const responseHeaderOperations = object({
  set: map(headerValue, { key: operationName(false) }),
  add: map(headerValue, { key: operationName(false) }),
  remove: array(string({ check: operationName(false) })),
});
const headers = object({ request: requestHeaderOperations, response: responseHeaderOperations });

const httpMatchRequest = object({
  name: string(),
  uri: stringMatch,
  scheme: stringMatch,
  method: stringMatch,
  authority: stringMatch,
  headers: map(stringMatch, { key: reportIf(matchHeaderNameError) }),
  port: portNumber(),
  sourceLabels: labels,
  gateways: stringList(),
  queryParams: map(stringMatch),
  ignoreUriCase: boolean(),
  withoutHeaders: map(withoutHeaderMatch, { key: reportIf(matchHeaderNameError) }),
  sourceNamespace: string({
    rule: 'DNS-1123 label',
    check: (ns, path, report) => {
      if (!isDns1123Label(ns)) report.error(path, `${JSON.stringify(ns)} is not a namespace name`);
    },
  }),
  statPrefix: string(),
});

const httpRouteDestination = object(
  { destination, weight: integer({ min: 0 }), headers },
  { required: ['destination'] },
);
const routeDestination = object({ destination, weight: integer({ min: 0 }) }, { required: ['destination'] });

const httpRedirect = object(
  {
    uri: string(),
    authority: string(),
    port: portNumber(),
    derivePort: enumOf(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']),
    scheme: enumOf(['http', 'https']),
    prefixRewrite: string(),
    redirectCode: integer({ min: 300, max: 399 }),
  },
  {
    exclusive: [
      ['port', 'derivePort'],
      ['uri', 'prefixRewrite'],
    ],
    rule: 'sets at least one of uri, prefixRewrite, authority, port, derivePort, scheme',
    check: (redirect, path, report) => {
      if (
        !['uri', 'prefixRewrite', 'authority', 'port', 'derivePort', 'scheme'].some(
          (f) => redirect[f] !== undefined,
        )
      ) {
        report.error(
          path,
          'must set at least one of uri, prefixRewrite, authority, port, derivePort, scheme',
        );
      }
    },
  },
);

const httpRewrite = object(
  {
    uri: string(),
    authority: string(),
    uriRegexRewrite: object(
      { match: string({ check: reportIf(regexError) }), rewrite: string() },
      { required: ['match', 'rewrite'] },
    ),
  },
  {
    exclusive: [['uri', 'uriRegexRewrite']],
    rule: 'sets at least one of uri, uriRegexRewrite, authority',
    check: (rewrite, path, report) => {
      if (
        rewrite.uri === undefined &&
        rewrite.uriRegexRewrite === undefined &&
        rewrite.authority === undefined
      ) {
        report.error(path, 'must set at least one of uri, uriRegexRewrite, authority');
      }
    },
  },
);

/** Envoy's `x-envoy-retry-on` and `x-envoy-retry-grpc-on` policies, as Istio accepts them in `retryOn`. */
const RETRY_ON = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

const httpRetry = object({
  attempts: integer({ min: 0 }),
  perTryTimeout: duration({ minMs: 1 }),
  retryOn: string({
    rule: 'comma-separated Envoy retry policies or HTTP status codes',
    check: (value, path, report) => {
      for (const policy of value.split(',').map((p) => p.trim())) {
        const status = /^\d{3}$/.test(policy) && Number(policy) >= 100 && Number(policy) <= 599;
        if (!status && !RETRY_ON.has(policy))
          report.error(path, `unknown retry policy ${JSON.stringify(policy)}`);
      }
    },
  }),
  retryRemoteLocalities: boolean(),
  retryIgnorePreviousHosts: boolean(),
  backoff: duration({ minMs: 1 }),
});

const GRPC_STATUS = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

const httpFaultInjection = object(
  {
    delay: object(
      {
        fixedDelay: duration({ minMs: 1 }),
        exponentialDelay: duration({ ignored: 'exponentialDelay is not implemented by Istio either' }),
        percentage: percent,
        percent: integer({ min: 0, max: 100, deprecated: 'use percentage.value' }),
      },
      { required: ['fixedDelay'], exclusive: [['percentage', 'percent']] },
    ),
    abort: object(
      {
        httpStatus: integer({ min: 200, max: 599 }),
        grpcStatus: enumOf(GRPC_STATUS),
        http2Error: string({ ignored: 'http2Error is not implemented by Istio either' }),
        percentage: percent,
      },
      {
        exclusive: [['httpStatus', 'grpcStatus', 'http2Error']],
        rule: 'one of httpStatus, grpcStatus',
        check: (abort, path, report) => {
          if (
            abort.httpStatus === undefined &&
            abort.grpcStatus === undefined &&
            abort.http2Error === undefined
          ) {
            report.error(path, 'one of httpStatus, grpcStatus must be set');
          }
        },
      },
    ),
  },
  {
    rule: 'one of delay, abort',
    check: (fault, path, report) => {
      if (fault.delay === undefined && fault.abort === undefined)
        report.error(path, 'one of delay, abort must be set');
    },
  },
);

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
const corsPolicy = object({
  allowOrigins: array(stringMatch),
  allowOrigin: stringList({ deprecated: 'use allowOrigins' }),
  allowMethods: array(
    string({
      rule: 'an HTTP method or `*`',
      check: (method, path, report) => {
        if (method !== '*' && !HTTP_METHODS.includes(method))
          report.error(path, `unknown HTTP method ${JSON.stringify(method)}`);
      },
    }),
  ),
  allowHeaders: array(string({ check: reportIf(headerNameError) })),
  exposeHeaders: array(string({ check: reportIf(headerNameError) })),
  maxAge: duration(),
  allowCredentials: boolean(),
  unmatchedPreflights: enumOf(['UNSPECIFIED', 'FORWARD', 'IGNORE']),
});

const httpRoute = object(
  {
    name: string(),
    match: array(httpMatchRequest),
    route: array(httpRouteDestination),
    redirect: httpRedirect,
    directResponse: object(
      {
        status: integer({ min: 200, max: 599 }),
        body: object(
          { string: string(), bytes: string() },
          {
            exclusive: [['string', 'bytes']],
            rule: 'at most 1 MiB (a warning above 100 KiB)',
            check: (body, path, report) => {
              const size = Buffer.byteLength(String(body.string ?? body.bytes ?? ''));
              if (size > 1024 * 1024) report.error(path, `body is ${size} bytes; at most 1 MiB is allowed`);
              else if (size > 100 * 1024)
                report.warning(path, `body is ${size} bytes; large direct responses slow down config pushes`);
            },
          },
        ),
      },
      { required: ['status'] },
    ),
    delegate: object(
      { name: string(), namespace: string() },
      { ignored: 'delegate VirtualServices are not supported' },
    ),
    rewrite: httpRewrite,
    timeout: duration(),
    retries: httpRetry,
    fault: httpFaultInjection,
    mirror: destination,
    mirrors: array(object({ destination, percentage: percent }, { required: ['destination'] })),
    mirrorPercentage: percent,
    mirrorPercent: uint32({ max: 100, deprecated: 'use mirrorPercentage' }),
    corsPolicy,
    headers,
  },
  {
    exclusive: [
      ['route', 'redirect', 'directResponse', 'delegate'],
      ['rewrite', 'redirect'],
      ['mirror', 'mirrors'],
      ['mirrorPercentage', 'mirrorPercent'],
    ],
  },
);

const tlsRoute = object(
  {
    match: array(
      object(
        {
          sniHosts: array(string({ check: reportIf(wildcardHostError) }), { nonEmpty: true }),
          destinationSubnets: stringList(),
          port: portNumber(),
          sourceLabels: labels,
          gateways: stringList(),
          sourceNamespace: string(),
        },
        { required: ['sniHosts'] },
      ),
      { nonEmpty: true },
    ),
    route: array(routeDestination),
  },
  { required: ['match'] },
);

const tcpRoute = object({
  match: array(
    object({
      destinationSubnets: stringList(),
      port: portNumber(),
      sourceLabels: labels,
      gateways: stringList(),
      sourceNamespace: string(),
      sourceSubnet: string(),
    }),
  ),
  route: array(routeDestination),
});

const spec = object({
  hosts: stringList(),
  gateways: stringList(),
  http: array(httpRoute),
  tls: array(tlsRoute),
  tcp: array(tcpRoute),
  exportTo: stringList(),
});

/** Weights are relative (current Istio): none negative, and with several destinations at least one positive. */
function checkWeights(route: readonly RouteDestination[], path: string, report: Reporter): void {
  if (route.length === 0) {
    report.error(path, 'at least one destination is required');
    return;
  }
  if (route.length > 1 && route.every((d) => (d.weight ?? 0) === 0)) {
    report.error(path, 'weights of the destinations sum to 0; at least one weight must be positive');
  }
}

function checkGatewayName(gateway: string, path: string, report: Reporter): void {
  if (gateway === 'mesh') return;
  const [first = '', second, ...rest] = gateway.split('/');
  const name = second ?? first;
  const namespace = second === undefined ? undefined : first;
  if (
    rest.length > 0 ||
    (namespace !== undefined && !isDns1123Label(namespace)) ||
    name === '' ||
    !/^[a-z0-9.-]+$/.test(name)
  ) {
    report.error(
      path,
      `invalid gateway reference ${JSON.stringify(gateway)}: expected "mesh", "name" or "namespace/name"`,
    );
  }
}

function checkHttpRoute(route: HTTPRoute, path: string, report: Reporter): void {
  if (!route.route && !route.redirect && !route.directResponse && !route.delegate) {
    report.error(path, 'one of route, redirect, directResponse must be set');
  }
  if (route.route) checkWeights(route.route, `${path}.route`, report);
  route.match?.forEach((match, i) => {
    match.gateways?.forEach((g, j) => {
      checkGatewayName(g, `${indexPath(`${path}.match`, i)}.gateways[${j}]`, report);
    });
  });
  if (route.directResponse && (route.rewrite || route.retries || route.mirror || route.fault)) {
    report.error(path, 'directResponse cannot be combined with rewrite, retries, mirror or fault');
  }
  if (route.redirect && route.fault) report.error(path, 'redirect cannot be combined with fault');
  if (
    route.redirect?.prefixRewrite !== undefined &&
    route.match?.some((m) => m.uri && !('prefix' in m.uri))
  ) {
    report.error(
      `${path}.redirect.prefixRewrite`,
      'requires every uri match of the route to be a prefix match',
    );
  }
  const authorities = [
    route.rewrite?.authority,
    ...Object.entries({ ...route.headers?.request?.set, ...route.headers?.request?.add })
      .filter(([name]) => name.toLowerCase() === ':authority')
      .map(([, value]) => value),
  ].filter((a) => a !== undefined);
  if (authorities.length > 1)
    report.error(path, `the authority is rewritten more than once (${authorities.join(', ')})`);
}

function semantic(
  vs: VirtualServiceSpec,
  { report, namespace }: { report: Reporter; namespace: string },
): void {
  checkExportTo(vs.exportTo, namespace, {}, report);
  const hosts = vs.hosts ?? [];
  if (hosts.length === 0)
    report.error('spec.hosts', 'at least one host is required (delegate VirtualServices are not supported)');
  const boundToMesh = !vs.gateways || vs.gateways.length === 0 || vs.gateways.includes('mesh');
  hosts.forEach((h, i) => {
    const reason = wildcardHostError(h);
    if (reason && !isIpAddress(h)) report.error(`spec.hosts[${i}]`, reason);
    if (h === '*' && boundToMesh)
      report.error(
        `spec.hosts[${i}]`,
        'wildcard host "*" is not allowed for a VirtualService bound to the mesh',
      );
  });
  vs.gateways?.forEach((g, i) => {
    checkGatewayName(g, `spec.gateways[${i}]`, report);
  });
  if (!vs.http?.length && !vs.tcp?.length && !vs.tls?.length)
    report.error('spec', 'one of http, tcp, tls must have a route');
  vs.http?.forEach((route, i) => {
    checkHttpRoute(route, `spec.http[${i}]`, report);
  });
  vs.tls?.forEach((route, i) => {
    checkWeights(route.route ?? [], `spec.tls[${i}].route`, report);
  });
  vs.tcp?.forEach((route, i) => {
    checkWeights(route.route ?? [], `spec.tcp[${i}].route`, report);
  });
}

export const virtualServiceKind: KindDefinition<'VirtualService'> = {
  kind: 'VirtualService',
  group: NETWORKING_GROUP,
  versions: NETWORKING_VERSIONS,
  spec,
  semantic,
};

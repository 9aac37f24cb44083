/**
 * The three route actions (forward to clusters, redirect, direct response)
 * and the retry and hash policies, compiled from
 * envoy/config/route/v3/route_components.proto (RouteAction,
 * RedirectAction, DirectResponseAction, RetryPolicy).
 */
import {
  compileHeaderMutation,
  compilePerFilterConfig,
  type HeaderMutation,
  type PerFilterConfig,
} from './http-filter-config.ts';
import {
  at,
  type Body,
  compileRegex,
  type ProblemList,
  readBodies,
  readBody,
  readBool,
  readDurationMs,
  readEnum,
  readFraction,
  readInt,
  readString,
  readWrappedInt,
} from './problems.ts';

/** Which failures a retry policy retries (Envoy's `x-envoy-retry-on` vocabulary). */
export interface RetryOn {
  readonly fiveXx: boolean;
  readonly gatewayError: boolean;
  readonly reset: boolean;
  readonly connectFailure: boolean;
  readonly retriable4xx: boolean;
  readonly refusedStream: boolean;
  readonly retriableStatusCodes: boolean;
}

export interface RetryPolicyConfig {
  readonly retryOn: RetryOn;
  /** Retries after the first attempt (default 1). */
  readonly numRetries: number;
  /** 0 = the route timeout alone bounds each try. */
  readonly perTryTimeoutMs: number;
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly statusCodes: ReadonlySet<number>;
  /** gRPC status codes retried (x-envoy-retry-grpc-on: cancelled 1, deadline-exceeded 4, resource-exhausted 8, internal 13, unavailable 14). */
  readonly grpcStatuses: ReadonlySet<number>;
}

export interface WeightedClusterConfig {
  readonly name: string;
  readonly weight: number;
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
  readonly filters: PerFilterConfig;
}

export type HashPolicyConfig =
  | { readonly kind: 'header'; readonly name: string; readonly terminal: boolean }
  | { readonly kind: 'cookie'; readonly name: string; readonly terminal: boolean }
  | { readonly kind: 'queryParameter'; readonly name: string; readonly terminal: boolean }
  | { readonly kind: 'sourceIp'; readonly terminal: boolean };

export interface ForwardAction {
  readonly kind: 'forward';
  /** One entry for `cluster`, several for `weightedClusters`; empty with `clusterHeader`. */
  readonly clusters: readonly WeightedClusterConfig[];
  readonly totalWeight: number;
  /** Lowercased request header naming the cluster. */
  readonly clusterHeader: string | undefined;
  /** Whole-request timeout; 0 disables (default 15 s). */
  readonly timeoutMs: number;
  /** Stream idle timeout override; undefined = the connection manager's. */
  readonly idleTimeoutMs: number | undefined;
  readonly prefixRewrite: string | undefined;
  readonly regexRewrite: { readonly regex: RegExp; readonly substitution: string } | undefined;
  readonly hostRewrite: string | undefined;
  readonly retry: RetryPolicyConfig | undefined;
  readonly mirrors: readonly { readonly cluster: string; readonly fraction: number }[];
  readonly hashPolicies: readonly HashPolicyConfig[];
}

export interface RedirectAction {
  readonly kind: 'redirect';
  readonly scheme: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly path: string | undefined;
  readonly prefixRewrite: string | undefined;
  readonly status: number;
  readonly stripQuery: boolean;
}

export interface DirectResponseAction {
  readonly kind: 'direct';
  readonly status: number;
  readonly body: Buffer | undefined;
}

export type RouteActionConfig = ForwardAction | RedirectAction | DirectResponseAction;

const RETRY_ON_WORDS: Record<string, keyof RetryOn> = {
  '5xx': 'fiveXx',
  'gateway-error': 'gatewayError',
  reset: 'reset',
  'connect-failure': 'connectFailure',
  'retriable-4xx': 'retriable4xx',
  'refused-stream': 'refusedStream',
  'retriable-status-codes': 'retriableStatusCodes',
};

const GRPC_RETRY_ON: Record<string, number> = {
  cancelled: 1,
  'deadline-exceeded': 4,
  'resource-exhausted': 8,
  internal: 13,
  unavailable: 14,
};

/** Compiles a RetryPolicy body. */
export function compileRetryPolicy(body: Body, path: string, problems: ProblemList): RetryPolicyConfig {
  const retryOn: Record<keyof RetryOn, boolean> = {
    fiveXx: false,
    gatewayError: false,
    reset: false,
    connectFailure: false,
    retriable4xx: false,
    refusedStream: false,
    retriableStatusCodes: false,
  };
  const grpcStatuses = new Set<number>();
  const words = (readString(body, 'retryOn', path, problems) ?? '').split(',').map((w) => w.trim());
  for (const word of words) {
    if (!word) continue;
    const flag = RETRY_ON_WORDS[word];
    const grpc = GRPC_RETRY_ON[word];
    if (flag) retryOn[flag] = true;
    else if (grpc !== undefined) grpcStatuses.add(grpc);
    // Accepted, not acted on yet: they only ever add retries.
    else if (!/^(retriable-headers|envoy-ratelimited|http3-post-connect-failure)$/.test(word)) {
      problems.add(at(path, 'retryOn'), `unknown retry condition ${JSON.stringify(word)}`);
    }
  }
  const backOff = readBody(body, 'retryBackOff', path, problems);
  const baseIntervalMs =
    (backOff && readDurationMs(backOff, 'baseInterval', at(path, 'retryBackOff'), problems)) ?? 25;
  const maxIntervalMs =
    (backOff && readDurationMs(backOff, 'maxInterval', at(path, 'retryBackOff'), problems)) ??
    baseIntervalMs * 10;
  if (baseIntervalMs <= 0) problems.add(at(path, 'retryBackOff.baseInterval'), 'must be > 0');
  if (maxIntervalMs < baseIntervalMs)
    problems.add(at(path, 'retryBackOff.maxInterval'), 'must be >= baseInterval');
  const statusCodes = new Set<number>();
  const rawCodes = body.retriableStatusCodes;
  if (Array.isArray(rawCodes)) {
    rawCodes.forEach((code, i) => {
      if (typeof code === 'number' && code >= 100 && code <= 599) statusCodes.add(code);
      else problems.add(at(at(path, 'retriableStatusCodes'), i), 'must be an HTTP status code');
    });
  }
  return {
    retryOn,
    numRetries: readWrappedInt(body, 'numRetries', path, problems, { min: 0 }) ?? 1,
    perTryTimeoutMs: readDurationMs(body, 'perTryTimeout', path, problems) ?? 0,
    baseIntervalMs,
    maxIntervalMs,
    statusCodes,
    grpcStatuses,
  };
}

/** Compiles the `route` action of a Route. */
export function compileForwardAction(body: Body, path: string, problems: ProblemList): ForwardAction {
  const clusters: WeightedClusterConfig[] = [];
  const cluster = readString(body, 'cluster', path, problems);
  const clusterHeader = readString(body, 'clusterHeader', path, problems)?.toLowerCase();
  const weighted = readBody(body, 'weightedClusters', path, problems);
  if (cluster) {
    clusters.push({
      name: cluster,
      weight: 1,
      requestHeaders: { add: [], remove: [] },
      responseHeaders: { add: [], remove: [] },
      filters: { fault: undefined, cors: undefined },
    });
  } else if (weighted) {
    const wPath = at(path, 'weightedClusters');
    for (const { body: c, path: cPath } of readBodies(weighted, 'clusters', wPath, problems)) {
      const name = readString(c, 'name', cPath, problems);
      if (!name) {
        problems.add(at(cPath, 'name'), 'is required');
        continue;
      }
      clusters.push({
        name,
        weight: readWrappedInt(c, 'weight', cPath, problems, { min: 0 }) ?? 0,
        requestHeaders: compileHeaderMutation(c, 'request', cPath, problems),
        responseHeaders: compileHeaderMutation(c, 'response', cPath, problems),
        filters: compilePerFilterConfig(c, cPath, problems),
      });
    }
    if (clusters.length === 0) problems.add(at(wPath, 'clusters'), 'must not be empty');
  } else if (!clusterHeader) {
    problems.add(path, 'one of cluster, weightedClusters or clusterHeader is required');
  }
  const totalWeight = clusters.reduce((sum, c) => sum + c.weight, 0);
  if (weighted && clusters.length > 0 && totalWeight === 0)
    problems.add(at(path, 'weightedClusters'), 'weights must sum to > 0');

  let regexRewrite: ForwardAction['regexRewrite'];
  const rr = readBody(body, 'regexRewrite', path, problems);
  if (rr) {
    const pattern = readBody(rr, 'pattern', at(path, 'regexRewrite'), problems);
    const source = pattern && readString(pattern, 'regex', at(path, 'regexRewrite.pattern'), problems);
    const regex =
      source === undefined
        ? undefined
        : compileRegex(source, at(path, 'regexRewrite.pattern.regex'), problems, false);
    const substitution = (readString(rr, 'substitution', at(path, 'regexRewrite'), problems) ?? '').replace(
      /\\(\d)/g,
      '$$$1',
    );
    if (regex) regexRewrite = { regex: new RegExp(regex.source, 'g'), substitution };
    else if (!source) problems.add(at(path, 'regexRewrite.pattern.regex'), 'is required');
  }
  const retryBody = readBody(body, 'retryPolicy', path, problems);
  const mirrors: Array<{ cluster: string; fraction: number }> = [];
  for (const { body: m, path: mPath } of readBodies(body, 'requestMirrorPolicies', path, problems)) {
    const mirrorCluster = readString(m, 'cluster', mPath, problems);
    if (!mirrorCluster) {
      problems.add(at(mPath, 'cluster'), 'is required');
      continue;
    }
    const runtime = readBody(m, 'runtimeFraction', mPath, problems);
    const fraction = runtime
      ? (readFraction(runtime, 'defaultValue', at(mPath, 'runtimeFraction'), problems) ?? 0)
      : 1;
    mirrors.push({ cluster: mirrorCluster, fraction });
  }
  const hashPolicies: HashPolicyConfig[] = [];
  for (const { body: h, path: hPath } of readBodies(body, 'hashPolicy', path, problems)) {
    const terminal = readBool(h, 'terminal', hPath, problems) ?? false;
    const header = readBody(h, 'header', hPath, problems);
    const cookie = readBody(h, 'cookie', hPath, problems);
    const query = readBody(h, 'queryParameter', hPath, problems);
    if (header)
      hashPolicies.push({
        kind: 'header',
        name: (readString(header, 'headerName', hPath, problems) ?? '').toLowerCase(),
        terminal,
      });
    else if (cookie)
      hashPolicies.push({
        kind: 'cookie',
        name: readString(cookie, 'name', hPath, problems) ?? '',
        terminal,
      });
    else if (query)
      hashPolicies.push({
        kind: 'queryParameter',
        name: readString(query, 'name', hPath, problems) ?? '',
        terminal,
      });
    else if (h.connectionProperties) hashPolicies.push({ kind: 'sourceIp', terminal });
    else problems.add(hPath, 'one of header, cookie, queryParameter or connectionProperties is required');
  }
  const hostRewrite = readString(body, 'hostRewriteLiteral', path, problems) || undefined;
  if (body.autoHostRewrite) problems.add(at(path, 'autoHostRewrite'), 'is not supported yet');
  return {
    kind: 'forward',
    clusters,
    totalWeight,
    clusterHeader,
    timeoutMs: readDurationMs(body, 'timeout', path, problems) ?? 15_000,
    idleTimeoutMs: readDurationMs(body, 'idleTimeout', path, problems),
    prefixRewrite: readString(body, 'prefixRewrite', path, problems),
    regexRewrite,
    hostRewrite,
    retry: retryBody ? compileRetryPolicy(retryBody, at(path, 'retryPolicy'), problems) : undefined,
    mirrors,
    hashPolicies,
  };
}

const REDIRECT_CODES: Record<string, number> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};
const REDIRECT_NAMES = Object.keys(REDIRECT_CODES);

/** Compiles a RedirectAction. */
export function compileRedirect(body: Body, path: string, problems: ProblemList): RedirectAction {
  const https = readBool(body, 'httpsRedirect', path, problems);
  const code =
    readEnum(body, 'responseCode', path, problems, REDIRECT_NAMES, REDIRECT_NAMES) ?? 'MOVED_PERMANENTLY';
  if (body.regexRewrite) problems.add(at(path, 'regexRewrite'), 'is not supported yet');
  return {
    kind: 'redirect',
    scheme: https ? 'https' : readString(body, 'schemeRedirect', path, problems) || undefined,
    host: readString(body, 'hostRedirect', path, problems) || undefined,
    port: readInt(body, 'portRedirect', path, problems, { min: 0, max: 65535 }) || undefined,
    path: readString(body, 'pathRedirect', path, problems) || undefined,
    prefixRewrite: readString(body, 'prefixRewrite', path, problems),
    status: REDIRECT_CODES[code] ?? 301,
    stripQuery: readBool(body, 'stripQuery', path, problems) ?? false,
  };
}

/** Compiles a DirectResponseAction (body from inlineString or inlineBytes). */
export function compileDirectResponse(body: Body, path: string, problems: ProblemList): DirectResponseAction {
  const status = readInt(body, 'status', path, problems, { min: 200, max: 599 });
  if (status === undefined) problems.add(at(path, 'status'), 'is required');
  const source = readBody(body, 'body', path, problems);
  let payload: Buffer | undefined;
  if (source) {
    const inline = readString(source, 'inlineString', at(path, 'body'), problems);
    const bytes = source.inlineBytes;
    if (inline !== undefined) payload = Buffer.from(inline);
    else if (bytes instanceof Uint8Array) payload = Buffer.from(bytes);
    else if (typeof bytes === 'string') payload = Buffer.from(bytes, 'base64');
    else problems.add(at(path, 'body'), 'only inlineString and inlineBytes are supported');
  }
  return { kind: 'direct', status: status ?? 200, body: payload };
}

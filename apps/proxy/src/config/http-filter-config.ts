/**
 * Per-filter configuration of the HTTP filters weft-proxy implements:
 * fault (envoy/extensions/filters/http/fault/v3/fault.proto), CORS
 * (envoy/extensions/filters/http/cors/v3/cors.proto) and header mutation
 * (`HeaderValueOption` lists on routes and virtual hosts).
 */
import {
  compileHeaderMatcher,
  compileStringMatcher,
  type HeaderMatch,
  type StringPredicate,
} from './matchers.ts';
import {
  anyTypeName,
  at,
  type Body,
  type ProblemList,
  readBodies,
  readBody,
  readDurationMs,
  readEnum,
  readFraction,
  readInt,
  readString,
  readStrings,
  readWrappedBool,
} from './problems.ts';

export const FAULT_FILTER = 'envoy.filters.http.fault';
export const CORS_FILTER = 'envoy.filters.http.cors';
export const ROUTER_FILTER = 'envoy.filters.http.router';
export const FAULT_TYPE = 'envoy.extensions.filters.http.fault.v3.HTTPFault';
export const CORS_TYPE = 'envoy.extensions.filters.http.cors.v3.Cors';
export const CORS_POLICY_TYPE = 'envoy.extensions.filters.http.cors.v3.CorsPolicy';
export const ROUTER_TYPE = 'envoy.extensions.filters.http.router.v3.Router';

/** Fault injection: an optional fixed delay and an optional abort, each with a probability in [0, 1]. */
export interface FaultConfig {
  readonly delay: { readonly ms: number; readonly fraction: number } | undefined;
  readonly abort:
    | { readonly httpStatus: number; readonly grpcStatus: number | undefined; readonly fraction: number }
    | undefined;
  /** Request headers that must all match for the fault to apply. */
  readonly headers: readonly HeaderMatch[];
}

/** Compiles an HTTPFault body. */
export function compileFault(body: Body, path: string, problems: ProblemList): FaultConfig {
  let delay: FaultConfig['delay'];
  const delayBody = readBody(body, 'delay', path, problems);
  if (delayBody) {
    const delayPath = at(path, 'delay');
    const ms = readDurationMs(delayBody, 'fixedDelay', delayPath, problems);
    if (ms === undefined) {
      if (delayBody.headerDelay) problems.add(at(delayPath, 'headerDelay'), 'is not supported yet');
      else problems.add(at(delayPath, 'fixedDelay'), 'is required');
    } else {
      delay = { ms, fraction: readFraction(delayBody, 'percentage', delayPath, problems) ?? 1 };
    }
  }
  let abort: FaultConfig['abort'];
  const abortBody = readBody(body, 'abort', path, problems);
  if (abortBody) {
    const abortPath = at(path, 'abort');
    const fraction = readFraction(abortBody, 'percentage', abortPath, problems) ?? 1;
    const httpStatus = readInt(abortBody, 'httpStatus', abortPath, problems, { min: 200, max: 599 });
    const grpcStatus = readInt(abortBody, 'grpcStatus', abortPath, problems, { min: 0, max: 16 });
    if (httpStatus === undefined && grpcStatus === undefined) {
      if (abortBody.headerAbort) problems.add(at(abortPath, 'headerAbort'), 'is not supported yet');
      else problems.add(abortPath, 'httpStatus or grpcStatus is required');
    } else {
      abort = { httpStatus: httpStatus ?? 200, grpcStatus, fraction };
    }
  }
  const headers: HeaderMatch[] = [];
  for (const { body: h, path: hPath } of readBodies(body, 'headers', path, problems)) {
    const m = compileHeaderMatcher(h, hPath, problems);
    if (m) headers.push(m);
  }
  if (readStrings(body, 'downstreamNodes', path, problems).length > 0) {
    problems.add(at(path, 'downstreamNodes'), 'is not supported yet');
  }
  if (body.responseRateLimit) problems.add(at(path, 'responseRateLimit'), 'is not supported yet');
  return { delay, abort, headers };
}

/** A CORS policy (per route or virtual host). */
export interface CorsConfig {
  readonly allowOrigin: readonly StringPredicate[];
  readonly allowMethods: string | undefined;
  readonly allowHeaders: string | undefined;
  readonly exposeHeaders: string | undefined;
  readonly maxAge: string | undefined;
  readonly allowCredentials: boolean;
}

/** Compiles a CorsPolicy body. */
export function compileCors(body: Body, path: string, problems: ProblemList): CorsConfig {
  const allowOrigin: StringPredicate[] = [];
  for (const { body: m, path: mPath } of readBodies(body, 'allowOriginStringMatch', path, problems)) {
    const p = compileStringMatcher(m, mPath, problems);
    if (p) allowOrigin.push(p);
  }
  return {
    allowOrigin,
    allowMethods: readString(body, 'allowMethods', path, problems) || undefined,
    allowHeaders: readString(body, 'allowHeaders', path, problems) || undefined,
    exposeHeaders: readString(body, 'exposeHeaders', path, problems) || undefined,
    maxAge: readString(body, 'maxAge', path, problems) || undefined,
    allowCredentials: readWrappedBool(body, 'allowCredentials', path, problems) ?? false,
  };
}

/** Per-filter overrides found in a route's or virtual host's `typedPerFilterConfig`. */
export interface PerFilterConfig {
  readonly fault: FaultConfig | undefined;
  readonly cors: CorsConfig | undefined;
}

/**
 * Compiles `typedPerFilterConfig`. A `config.route.v3.FilterConfig` wrapper
 * with `isOptional` is honoured; unknown non-optional entries are problems.
 */
export function compilePerFilterConfig(parent: Body, path: string, problems: ProblemList): PerFilterConfig {
  const map = readBody(parent, 'typedPerFilterConfig', path, problems);
  let fault: FaultConfig | undefined;
  let cors: CorsConfig | undefined;
  if (!map) return { fault, cors };
  for (const [key, raw] of Object.entries(map)) {
    const entryPath = `${at(path, 'typedPerFilterConfig')}['${key}']`;
    let value = raw as Body;
    let optional = false;
    if (anyTypeName(value) === 'envoy.config.route.v3.FilterConfig') {
      optional = value.isOptional === true;
      if (value.disabled === true) continue;
      value = (value.config as Body | undefined) ?? {};
    }
    const typeName = anyTypeName(value);
    if (typeName === FAULT_TYPE) fault = compileFault(value, entryPath, problems);
    else if (typeName === CORS_POLICY_TYPE) cors = compileCors(value, entryPath, problems);
    else if (!optional)
      problems.add(entryPath, `unsupported per-filter config ${typeName ?? 'without @type'}`);
  }
  return { fault, cors };
}

/** How a header value option combines with existing values. */
export type AppendAction =
  | 'APPEND_IF_EXISTS_OR_ADD'
  | 'ADD_IF_ABSENT'
  | 'OVERWRITE_IF_EXISTS_OR_ADD'
  | 'OVERWRITE_IF_EXISTS';

export interface HeaderValueOption {
  readonly name: string;
  readonly value: string;
  readonly action: AppendAction;
}

/** Request or response header changes: removals first, then additions, as Envoy applies them. */
export interface HeaderMutation {
  readonly add: readonly HeaderValueOption[];
  readonly remove: readonly string[];
}

export const NO_HEADER_MUTATION: HeaderMutation = { add: [], remove: [] };

/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const APPEND_ACTIONS: readonly AppendAction[] = [
  'APPEND_IF_EXISTS_OR_ADD',
  'ADD_IF_ABSENT',
  'OVERWRITE_IF_EXISTS_OR_ADD',
  'OVERWRITE_IF_EXISTS',
];

/** Compiles `<prefix>HeadersToAdd` and `<prefix>HeadersToRemove` (prefix `request` or `response`). */
export function compileHeaderMutation(
  parent: Body,
  prefix: 'request' | 'response',
  path: string,
  problems: ProblemList,
): HeaderMutation {
  const add: HeaderValueOption[] = [];
  for (const { body, path: optPath } of readBodies(parent, `${prefix}HeadersToAdd`, path, problems)) {
    const header = readBody(body, 'header', optPath, problems);
    const name = header && readString(header, 'key', at(optPath, 'header'), problems);
    if (!header || !name) {
      problems.add(at(optPath, 'header.key'), 'is required');
      continue;
    }
    if (name.startsWith(':') || name.toLowerCase() === 'host') {
      problems.add(at(optPath, 'header.key'), `pseudo-headers and host cannot be modified (${name})`);
      continue;
    }
    if (!HEADER_NAME.test(name)) {
      problems.add(
        at(optPath, 'header.key'),
        `must be an HTTP header name (a token), got ${JSON.stringify(name)}`,
      );
      continue;
    }
    const value = readString(header, 'value', at(optPath, 'header'), problems) ?? '';
    // Envoy's HTTP_HEADER_VALUE (non-strict): no NUL, CR or LF, which would split the message.
    if (/[\0\r\n]/.test(value)) {
      problems.add(at(optPath, 'header.value'), 'must not contain NUL, CR or LF');
      continue;
    }
    const append = readWrappedBool(body, 'append', optPath, problems);
    const action =
      readEnum(body, 'appendAction', optPath, problems, APPEND_ACTIONS, APPEND_ACTIONS) ??
      (append === false ? 'OVERWRITE_IF_EXISTS_OR_ADD' : 'APPEND_IF_EXISTS_OR_ADD');
    add.push({ name: name.toLowerCase(), value, action });
  }
  const remove = readStrings(parent, `${prefix}HeadersToRemove`, path, problems).map((h) => h.toLowerCase());
  if (add.length === 0 && remove.length === 0) return NO_HEADER_MUTATION;
  return { add, remove };
}

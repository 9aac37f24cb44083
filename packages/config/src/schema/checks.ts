/**
 * Field checks shared by the kinds, written after Istio's own validation
 * (pkg/config/validation): host names with wildcard rules, IPs and CIDRs,
 * RE2 regexes, Kubernetes names.
 */
import { isIP } from 'node:net';
import type { Reporter } from './reporter.ts';

const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const HOST_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const WILDCARD_LABEL = /^(?:\*|(?:\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;

/** A DNS-1123 label: lowercase alphanumerics and '-', at most 63 characters (namespaces, subset names). */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

/** A DNS-1123 subdomain: dot-separated labels, at most 253 characters (Kubernetes object names). */
export function isDns1123Subdomain(value: string): boolean {
  return value.length > 0 && value.length <= 253 && value.split('.').every((label) => isDns1123Label(label));
}

/** Why `host` is not a valid host name (labels of letters, digits and '-'), or undefined when it is. */
export function hostNameError(host: string): string | undefined {
  if (host === '') return 'host must not be empty';
  if (host.length > 255) return `host ${JSON.stringify(host)} is longer than 255 characters`;
  return labelsError(host, host.split('.'));
}

function labelsError(host: string, labels: readonly string[]): string | undefined {
  const bad = labels.find((label) => label.length > 63 || !HOST_LABEL.test(label));
  return bad === undefined
    ? undefined
    : `host ${JSON.stringify(host)} has an invalid label ${JSON.stringify(bad)}`;
}

/**
 * Why `host` is not a valid host with an optional wildcard, or undefined. As
 * in Istio, a wildcard is allowed only in the first label (`*`, `*.example.com`,
 * `*-svc.example.com`).
 */
export function wildcardHostError(host: string): string | undefined {
  if (host === '') return 'host must not be empty';
  if (host.length > 255) return `host ${JSON.stringify(host)} is longer than 255 characters`;
  const dot = host.indexOf('.');
  const first = dot === -1 ? host : host.slice(0, dot);
  if (first.length > 63 || !WILDCARD_LABEL.test(first)) {
    return `host ${JSON.stringify(host)} has an invalid label ${JSON.stringify(first)}${first.includes('*') ? ' (a wildcard must be the start of the first label)' : ''}`;
  }
  return dot === -1 ? undefined : labelsError(host, host.slice(dot + 1).split('.'));
}

export function isIpAddress(value: string): boolean {
  return isIP(value) !== 0;
}

/** Why `value` is not an IP address or CIDR block, or undefined. */
export function cidrError(value: string): string | undefined {
  const [ip = '', prefix, ...rest] = value.split('/');
  const family = isIP(ip);
  if (family === 0 || rest.length > 0) return `${JSON.stringify(value)} is not an IP address or CIDR block`;
  if (prefix === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max)
    return `${JSON.stringify(value)} has an invalid prefix length (0..${max})`;
  return undefined;
}

/**
 * Why `pattern` is not a regex Envoy's RE2 engine accepts, or undefined. It
 * is compiled with JavaScript's engine after translating RE2-only syntax
 * (leading `(?i)` style flags, `(?P<name>`); lookaround and backreferences,
 * which RE2 does not support, are rejected.
 */
export function regexError(pattern: string): string | undefined {
  if (pattern === '') return 'regex must not be empty';
  if (pattern.length > 1024) return `regex is ${pattern.length} characters long; at most 1024 are allowed`;
  if (/\(\?<?[=!]/.test(pattern))
    return `invalid regex ${JSON.stringify(pattern)}: lookaround is not supported by RE2`;
  if (/(?<!\\)\\[1-9]/.test(pattern))
    return `invalid regex ${JSON.stringify(pattern)}: backreferences are not supported by RE2`;
  let body = pattern;
  let flags = '';
  const leading = /^\(\?([imsU]+)\)/.exec(body);
  if (leading) {
    body = body.slice(leading[0].length);
    flags = [...new Set(leading[1]?.replace('U', '') ?? '')].join('');
  }
  body = body.replaceAll('(?P<', '(?<');
  try {
    new RegExp(body, flags);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const reason = message.slice(message.lastIndexOf(': ') + 2);
    return `invalid regex ${JSON.stringify(pattern)}: ${reason}`;
  }
}

/** What each shared check enforces, in words, for the configuration reference. */
const CHECK_RULES = new Map<(value: string) => string | undefined, string>();

/** The words for a check built by `reportIf`, if any. */
export const checkRules = new WeakMap<object, string>();

/** Reports through `report` when `check(value)` returns a reason. */
export function reportIf(check: (value: string) => string | undefined) {
  const reporter = (value: string, path: string, report: Reporter): void => {
    const reason = check(value);
    if (reason) report.error(path, reason);
  };
  const rule = CHECK_RULES.get(check);
  if (rule) checkRules.set(reporter, rule);
  return reporter;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An HTTP header name (an RFC 9110 token; HTTP/2 pseudo-headers such as `:authority` allowed). */
export function headerNameError(name: string): string | undefined {
  const bare = name.startsWith(':') ? name.slice(1) : name;
  return TOKEN.test(bare) ? undefined : `invalid header name ${JSON.stringify(name)}`;
}

/**
 * A header name in a route match: an HTTP header name, or a JWT claim as
 * Istio routes on it (`@request.auth.claims.groups`, `@request.auth.claims[a.b]`).
 */
export function matchHeaderNameError(name: string): string | undefined {
  if (/^@request\.auth\.claims(?:\.[^.[\]]+|\[[^\]]+\])+$/.test(name)) return undefined;
  return headerNameError(name);
}

/** An HTTP header name that is not a pseudo-header (headers Weft adds or sets). */
export function plainHeaderNameError(name: string): string | undefined {
  return name.startsWith(':')
    ? `${JSON.stringify(name)} is a pseudo-header and cannot be set`
    : headerNameError(name);
}

/**
 * A header Weft may modify: not `host`, not a pseudo-header, except that
 * request `set`/`add` may rewrite `:authority` (`allowAuthority`).
 */
export function headerOperationNameError(name: string, allowAuthority = false): string | undefined {
  if (allowAuthority && name.toLowerCase() === ':authority') return undefined;
  if (name.toLowerCase() === 'host') return 'the Host header cannot be modified (use rewrite.authority)';
  if (name.startsWith(':')) return `${JSON.stringify(name)}: pseudo-headers cannot be modified`;
  return headerNameError(name);
}

/** Header values may not contain control characters other than tab. */
export function headerValueError(value: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
  return /[\u0000-\u0008\u000A-\u001F\u007F]/.test(value)
    ? 'header value contains control characters'
    : undefined;
}

/** A Kubernetes label key (`[prefix/]name`) . */
export function labelKeyError(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && !isDns1123Subdomain(prefix))
    return `invalid label key ${JSON.stringify(key)}: bad prefix`;
  if (name.length === 0 || name.length > 63 || !/^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name)) {
    return `invalid label key ${JSON.stringify(key)}`;
  }
  return undefined;
}

/** A Kubernetes label value: empty, or up to 63 alphanumerics with '-', '_', '.' inside. */
export function labelValueError(value: string): string | undefined {
  if (value === '') return undefined;
  return value.length <= 63 && /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(value)
    ? undefined
    : `invalid label value ${JSON.stringify(value)}`;
}

CHECK_RULES.set(hostNameError, 'host name (letters, digits, "-", dot-separated labels)');
CHECK_RULES.set(wildcardHostError, 'host name; a wildcard only as the first label (`*`, `*.example.com`)');
CHECK_RULES.set(cidrError, 'IP address or CIDR block');
CHECK_RULES.set(regexError, 'RE2 regex that compiles (no lookaround or backreferences)');
CHECK_RULES.set(headerNameError, 'HTTP header name (token)');
CHECK_RULES.set(matchHeaderNameError, 'HTTP header name, or a JWT claim `@request.auth.claims.<name>`');
CHECK_RULES.set(headerValueError, 'no control characters');
CHECK_RULES.set(plainHeaderNameError, 'HTTP header name, not a pseudo-header');
CHECK_RULES.set(labelKeyError, 'Kubernetes label key');
CHECK_RULES.set(labelValueError, 'Kubernetes label value');

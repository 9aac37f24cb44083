/**
 * SPIFFE IDs: `spiffe://TRUST_DOMAIN/PATH`, following the SPIFFE-ID standard
 * (spiffe/spiffe standards/SPIFFE-ID.md, sections 2.1-2.3): the scheme is
 * lowercase `spiffe`; the trust domain holds only lowercase letters, digits,
 * `.`, `-` and `_` (so no port, no userinfo); path segments hold letters,
 * digits, `.`, `-` and `_`, are never empty, `.` or `..`; no trailing `/`,
 * query or fragment; at most 2048 bytes. Weft workload identities use the
 * Istio path `/ns/NAMESPACE/sa/SERVICE_ACCOUNT`.
 */
import type { Problem, Result } from './problems.ts';

export interface SpiffeId {
  trustDomain: string;
  /** The path, starting with `/`, or `''` for the trust domain's own ID. */
  path: string;
  /** Set when the path is `/ns/NS/sa/SA`. */
  namespace?: string;
  /** Set when the path is `/ns/NS/sa/SA`. */
  serviceAccount?: string;
}

export interface WorkloadIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

const MAX_LENGTH = 2048;
const TRUST_DOMAIN_RE = /^[a-z0-9._-]+$/;
const SEGMENT_RE = /^[A-Za-z0-9._-]+$/;

/** Problems with a trust domain name, each with `field`. Never throws. */
export function validateTrustDomain(trustDomain: string, field = 'trustDomain'): Problem[] {
  if (trustDomain.length === 0) return [{ field, message: 'trust domain is empty' }];
  if (!TRUST_DOMAIN_RE.test(trustDomain)) {
    return [
      {
        field,
        message: `trust domain "${trustDomain}" may hold only lowercase letters, digits, ".", "-" and "_"`,
      },
    ];
  }
  return [];
}

function validatePathSegment(segment: string, index: number, field: string): Problem[] {
  const at = `${field}[${index}]`;
  if (segment.length === 0) return [{ field: at, message: 'path segment is empty' }];
  if (segment === '.' || segment === '..')
    return [{ field: at, message: `path segment "${segment}" is not allowed` }];
  if (!SEGMENT_RE.test(segment)) {
    return [
      { field: at, message: `path segment "${segment}" may hold only letters, digits, ".", "-" and "_"` },
    ];
  }
  return [];
}

/**
 * Parses and validates a SPIFFE ID. Returns every problem found, each with a
 * field path (`scheme`, `trustDomain`, `path[i]`, ...). Never throws.
 */
export function parseSpiffeId(value: string): Result<{ id: SpiffeId }> {
  const problems: Problem[] = [];
  if (Buffer.byteLength(value, 'utf8') > MAX_LENGTH) {
    return { ok: false, problems: [{ field: '', message: `SPIFFE ID is longer than ${MAX_LENGTH} bytes` }] };
  }
  const prefix = 'spiffe://';
  if (!value.startsWith(prefix)) {
    return {
      ok: false,
      problems: [{ field: 'scheme', message: `"${value}" does not start with "spiffe://"` }],
    };
  }
  const rest = value.slice(prefix.length);
  if (/[?#]/.test(rest)) problems.push({ field: '', message: 'SPIFFE ID must not have a query or fragment' });
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  problems.push(...validateTrustDomain(trustDomain));
  if (path !== '') {
    const segments = path.slice(1).split('/');
    if (path.endsWith('/')) problems.push({ field: 'path', message: 'path must not end with "/"' });
    segments.forEach((segment, i) => {
      if (i === segments.length - 1 && segment === '' && path.endsWith('/')) return;
      problems.push(...validatePathSegment(segment, i, 'path'));
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  const id: SpiffeId = { trustDomain, path };
  const match = /^\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(path);
  if (match) {
    id.namespace = match[1];
    id.serviceAccount = match[2];
  }
  return { ok: true, id };
}

/**
 * Parses a SPIFFE ID that must be a workload identity
 * (`spiffe://TD/ns/NS/sa/SA`). Never throws.
 */
export function parseWorkloadId(value: string): Result<{ identity: WorkloadIdentity }> {
  const parsed = parseSpiffeId(value);
  if (!parsed.ok) return parsed;
  const { trustDomain, namespace, serviceAccount } = parsed.id;
  if (namespace === undefined || serviceAccount === undefined) {
    return {
      ok: false,
      problems: [{ field: 'path', message: `"${value}" is not of the form /ns/NS/sa/SA` }],
    };
  }
  return { ok: true, identity: { trustDomain, namespace, serviceAccount } };
}

/** Problems with a workload identity's parts, each with its field. Never throws. */
export function validateWorkloadIdentity(identity: WorkloadIdentity): Problem[] {
  return [
    ...validateTrustDomain(identity.trustDomain),
    ...validatePathSegment(identity.namespace, 1, 'path').map((p) => ({ ...p, field: 'namespace' })),
    ...validatePathSegment(identity.serviceAccount, 3, 'path').map((p) => ({
      ...p,
      field: 'serviceAccount',
    })),
  ];
}

/**
 * Formats `spiffe://TD/ns/NS/sa/SA`. The parts are not checked here; call
 * `validateWorkloadIdentity` first for untrusted input.
 */
export function formatSpiffeId(identity: WorkloadIdentity): string {
  return `spiffe://${identity.trustDomain}/ns/${identity.namespace}/sa/${identity.serviceAccount}`;
}

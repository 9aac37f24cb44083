/**
 * AdmissionReview v1 (admission.k8s.io/v1) in and out. Parsing never throws:
 * a body that is not an AdmissionReview v1 with a request gets the list of
 * what is wrong, each with its field path, and the server answers 400.
 *
 * @see https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#request
 */

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** The request fields the webhooks read. */
export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  /** The namespace of the object (set for namespaced objects, also when the object itself omits it). */
  namespace?: string;
  name?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  /** The object as it would be stored; absent on DELETE. */
  object?: unknown;
  dryRun?: boolean;
}

/** One JSON Patch (RFC 6902) operation; the webhooks only add and replace. */
export interface JsonPatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

export interface AdmissionResult {
  allowed: boolean;
  patch?: readonly JsonPatchOperation[];
  /** When denied: the reason shown to the user (kubectl prints it). */
  message?: string;
  /** Shown to the user by kubectl on success or failure. */
  warnings?: readonly string[];
}

export type ParseAdmissionResult =
  | { ok: true; request: AdmissionRequest }
  | { ok: false; problems: string[] };

const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a decoded JSON body is an AdmissionReview v1 carrying a request. */
export function parseAdmissionReview(body: unknown): ParseAdmissionResult {
  const problems: string[] = [];
  if (!isRecord(body)) return { ok: false, problems: ['body: expected a JSON object (an AdmissionReview)'] };
  if (body.apiVersion !== ADMISSION_API_VERSION)
    problems.push(`apiVersion: expected "${ADMISSION_API_VERSION}", got ${JSON.stringify(body.apiVersion)}`);
  if (body.kind !== 'AdmissionReview')
    problems.push(`kind: expected "AdmissionReview", got ${JSON.stringify(body.kind)}`);
  const request = body.request;
  if (!isRecord(request)) {
    problems.push('request: required object');
    return { ok: false, problems };
  }
  if (typeof request.uid !== 'string' || request.uid === '') problems.push('request.uid: required string');
  const kind = request.kind;
  if (!isRecord(kind) || typeof kind.kind !== 'string' || typeof kind.version !== 'string') {
    problems.push('request.kind: required {group, version, kind}');
  }
  if (typeof request.operation !== 'string' || !OPERATIONS.has(request.operation)) {
    problems.push(
      `request.operation: expected CREATE, UPDATE, DELETE or CONNECT, got ${JSON.stringify(request.operation)}`,
    );
  }
  if (request.namespace !== undefined && typeof request.namespace !== 'string')
    problems.push('request.namespace: expected a string');
  if (request.object !== undefined && request.object !== null && !isRecord(request.object))
    problems.push('request.object: expected an object');
  if (problems.length > 0 || !isRecord(kind)) return { ok: false, problems };
  return {
    ok: true,
    request: {
      uid: request.uid as string,
      kind: {
        group: typeof kind.group === 'string' ? kind.group : '',
        version: kind.version as string,
        kind: kind.kind as string,
      },
      operation: request.operation as AdmissionRequest['operation'],
      ...(typeof request.namespace === 'string' && request.namespace !== ''
        ? { namespace: request.namespace }
        : {}),
      ...(typeof request.name === 'string' && request.name !== '' ? { name: request.name } : {}),
      ...(isRecord(request.object) ? { object: request.object } : {}),
      ...(request.dryRun === true ? { dryRun: true } : {}),
    },
  };
}

/** The AdmissionReview answering request `uid`; a patch is sent as base64 JSONPatch. */
export function admissionReviewResponse(uid: string, result: AdmissionResult): Record<string, unknown> {
  const response: Record<string, unknown> = { uid, allowed: result.allowed };
  if (result.patch && result.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(result.patch)).toString('base64');
  }
  if (!result.allowed)
    response.status = { code: 400, reason: 'BadRequest', message: result.message ?? 'denied' };
  if (result.warnings && result.warnings.length > 0) response.warnings = [...result.warnings];
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

/** A JSON Pointer token (RFC 6901): `~` as `~0`, `/` as `~1`. */
export function pointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Builders for kind tests: a resource around a spec, and its problems as `path: message` lines. */
import type { Kind } from '../src/resources/resource-types.ts';
import { validateObject } from '../src/validation/validate-object.ts';

const API_VERSION: Record<Kind, string> = {
  VirtualService: 'networking.istio.io/v1',
  DestinationRule: 'networking.istio.io/v1',
  Gateway: 'networking.istio.io/v1',
  ServiceEntry: 'networking.istio.io/v1',
  WorkloadEntry: 'networking.istio.io/v1',
  Sidecar: 'networking.istio.io/v1',
  PeerAuthentication: 'security.istio.io/v1',
  AuthorizationPolicy: 'security.istio.io/v1',
  RequestAuthentication: 'security.istio.io/v1',
};

/** A resource of `kind` named `test` in namespace `default` around `spec`. */
export function resource(kind: Kind, spec: unknown, apiVersion = API_VERSION[kind]): Record<string, unknown> {
  return { apiVersion, kind, metadata: { name: 'test', namespace: 'default' }, spec };
}

/** Problems of validating `spec` as `kind`, as `severity path: message` lines. */
export function problemsOf(kind: Kind, spec: unknown): string[] {
  return validateObject(resource(kind, spec)).problems.map((p) => `${p.severity} ${p.path}: ${p.message}`);
}

/** Only the errors, as `path: message`. */
export function errorsOf(kind: Kind, spec: unknown): string[] {
  return validateObject(resource(kind, spec))
    .problems.filter((p) => p.severity === 'error')
    .map((p) => `${p.path}: ${p.message}`);
}

/** Spec builders for networking kinds. */
export const dest = (host: string, extra: Record<string, unknown> = {}) => ({
  destination: { host, ...extra },
});
export const vs = (http: unknown[], extra: Record<string, unknown> = {}) => ({
  hosts: ['reviews'],
  http,
  ...extra,
});
export const route = (...destinations: unknown[]) => ({ route: destinations });
export const dr = (extra: Record<string, unknown>) => ({ host: 'reviews', ...extra });
export const server = (extra: Record<string, unknown> = {}) => ({
  port: { number: 80, name: 'http', protocol: 'HTTP' },
  hosts: ['*'],
  ...extra,
});
export const https = (tls?: Record<string, unknown>) => ({
  port: { number: 443, name: 'https', protocol: 'HTTPS' },
  hosts: ['a.com'],
  ...(tls ? { tls } : {}),
});

export const se = (extra: Record<string, unknown>) => ({
  hosts: ['api.example.com'],
  ports: [{ number: 443, name: 'https', protocol: 'TLS' }],
  ...extra,
});

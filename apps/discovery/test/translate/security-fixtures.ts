/**
 * Shared fixtures of the authorization and request authentication tests:
 * the reviews service (HTTP and TCP), its v1 sidecar, policy builders and a
 * RequestAuthentication with its tokens.
 */
import { securityHead, serviceYaml, sidecar, spiffe } from './builders.ts';

export const ISSUER = 'https://issuer.example';
export const reviews = serviceYaml({ name: 'reviews', workloads: { v1: '127.0.0.4' } });
export const reviewsTcp = serviceYaml({
  name: 'reviews',
  ports: [{ number: 9080, name: 'tcp', protocol: 'TCP' }],
  workloads: { v1: '127.0.0.4' },
});
export const reviewsV1 = () =>
  sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } });

export function policy(name: string, spec: string, namespace = 'default'): string {
  return `${securityHead('AuthorizationPolicy', name, namespace)}\n${spec}`;
}

export const SELECT_REVIEWS = '  selector: { matchLabels: { app: reviews } }';

export const requestAuthentication = `${securityHead('RequestAuthentication', 'reviews-jwt')}
${SELECT_REVIEWS}
  jwtRules:
  - issuer: ${ISSUER}
    audiences: [reviews]
    jwks: '{"keys":[]}'`;

export const PRODUCTPAGE = spiffe('productpage');
export const token = (claims: Record<string, unknown>) => ({
  payload: { iss: ISSUER, aud: 'reviews', sub: 'jason', ...claims },
});

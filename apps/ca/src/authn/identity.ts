/**
 * Who a caller proved to be, and the contract every authenticator follows.
 */

/** A proved workload identity (namespace + service account), and how it was proved. */
export interface CallerIdentity {
  namespace: string;
  serviceAccount: string;
  method: 'local-token' | 'token-review' | 'client-certificate';
  /** For the audit log: `system:serviceaccount:NS:SA` or the client certificate's serial. */
  subject: string;
}

/** A failed authentication: `reason` may reach the caller, `detail` only the log. */
export interface AuthnFailure {
  ok: false;
  reason: 'missing' | 'expired' | 'invalid' | 'unavailable';
  detail: string;
}

export type AuthnResult = { ok: true; identity: CallerIdentity } | AuthnFailure;

/** Checks a bearer token. Resolves (never rejects) with an identity or a failure. */
export interface TokenAuthenticator {
  authenticate(token: string): Promise<AuthnResult>;
}

const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([A-Za-z0-9._-]+):([A-Za-z0-9._-]+)$/;

/** Reads `system:serviceaccount:NS:SA`; undefined for any other user name. */
export function parseServiceAccountUser(
  user: string,
): { namespace: string; serviceAccount: string } | undefined {
  const match = SERVICE_ACCOUNT_USER.exec(user);
  return match ? { namespace: match[1]!, serviceAccount: match[2]! } : undefined;
}

export function serviceAccountUser(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/**
 * Cluster mode: Kubernetes service-account tokens checked with the
 * TokenReview API (authentication.k8s.io/v1) through @kubernetes/client-node,
 * asking for audience `istio-ca`. The identity comes from the review result
 * (`system:serviceaccount:NS:SA`), never from the token's own claims.
 */
import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { type AuthnResult, parseServiceAccountUser, type TokenAuthenticator } from './identity.ts';
import { TOKEN_AUDIENCE } from './local-token.ts';

export interface TokenReviewOptions {
  /** Audience the token must be valid for; default `istio-ca`. */
  audience?: string;
}

/** Creates a TokenReview authenticator over `config` (see `loadKubeConfig`). */
export function createTokenReviewAuthenticator(
  config: KubeConfig,
  options: TokenReviewOptions = {},
): TokenAuthenticator {
  const api = config.makeApiClient(AuthenticationV1Api);
  const audience = options.audience ?? TOKEN_AUDIENCE;
  return {
    async authenticate(token: string): Promise<AuthnResult> {
      let review: Awaited<ReturnType<AuthenticationV1Api['createTokenReview']>>;
      try {
        review = await api.createTokenReview({
          body: {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenReview',
            spec: { token, audiences: [audience] },
          },
        });
      } catch (error) {
        return {
          ok: false,
          reason: 'unavailable',
          detail: `TokenReview call failed: ${(error as Error).message}`,
        };
      }
      const status = review.status;
      if (!status?.authenticated) {
        return {
          ok: false,
          reason: 'invalid',
          detail: `TokenReview: not authenticated (${status?.error ?? 'no error given'})`,
        };
      }
      if (!(status.audiences ?? []).includes(audience)) {
        return {
          ok: false,
          reason: 'invalid',
          detail: `TokenReview: token is not valid for audience ${audience}`,
        };
      }
      const username = status.user?.username ?? '';
      const account = parseServiceAccountUser(username);
      if (!account)
        return {
          ok: false,
          reason: 'invalid',
          detail: `TokenReview: user "${username}" is not a service account`,
        };
      return { ok: true, identity: { ...account, method: 'token-review', subject: username } };
    },
  };
}

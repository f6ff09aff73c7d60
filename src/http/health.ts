import type { IssuerState, IssuerStatus } from '../auth/index.js';
import type { PolicyStatus } from '../policy/index.js';
import type { UpstreamAuth } from '../upstream-auth/index.js';

/** What `/readyz` reports: ready when every issuer's keys were fetched once (and its introspection endpoint answered) and we are not draining. */
export interface Readiness {
  ready: boolean;
  draining: boolean;
  authorizationServers: Record<string, IssuerState>;
  /** The policy in force; `lastError` shows a rejected edit (the previous policy stays in force). */
  policy: PolicyStatus;
  /** The upstream credential: ready once the authorization server issuing it answered (client credentials, token exchange). */
  upstreamCredential?: UpstreamAuth['state'];
}

export interface ReadinessSource {
  issuers: readonly IssuerStatus[];
  isDraining: () => boolean;
  policyStatus: () => PolicyStatus;
  upstreamAuth?: Pick<UpstreamAuth, 'state'>;
}

export function buildReadiness({ issuers, isDraining, policyStatus, upstreamAuth }: ReadinessSource): Readiness {
  const authorizationServers = Object.fromEntries(issuers.map((keys) => [keys.issuer, keys.state]));
  const keysReady = issuers.every((keys) => keys.state.status === 'ready');
  const upstreamCredential = upstreamAuth?.state;
  const credentialReady = upstreamCredential === undefined || upstreamCredential.status === 'ready';
  const draining = isDraining();
  return {
    ready: keysReady && credentialReady && !draining,
    draining,
    authorizationServers,
    policy: policyStatus(),
    ...(upstreamCredential ? { upstreamCredential } : {}),
  };
}

import type { IssuerKeys, IssuerKeysState } from '../auth/index.js';
import type { PolicyStatus } from '../policy/index.js';

/** What `/readyz` reports: ready when every issuer's keys were fetched once and we are not draining. */
export interface Readiness {
  ready: boolean;
  draining: boolean;
  authorizationServers: Record<string, IssuerKeysState>;
  /** The policy in force; `lastError` shows a rejected edit (the previous policy stays in force). */
  policy: PolicyStatus;
}

export interface ReadinessSource {
  issuers: readonly IssuerKeys[];
  isDraining: () => boolean;
  policyStatus: () => PolicyStatus;
}

export function buildReadiness({ issuers, isDraining, policyStatus }: ReadinessSource): Readiness {
  const authorizationServers = Object.fromEntries(issuers.map((keys) => [keys.issuer, keys.state]));
  const keysReady = issuers.every((keys) => keys.state.status === 'ready');
  const draining = isDraining();
  return { ready: keysReady && !draining, draining, authorizationServers, policy: policyStatus() };
}

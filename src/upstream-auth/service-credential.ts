import type { Principal, SubjectToken } from '../auth/index.js';

/** Who a forwarded call is for: the verified principal and (for token exchange only) its token. */
export interface UpstreamCaller {
  principal: Principal;
  subjectToken: SubjectToken | undefined;
}

/**
 * The gateway's credential towards the upstream, described for audit: which kind, and whose
 * it is (`subject`: the gateway's client for client credentials, the user for token exchange),
 * never a secret or a token.
 */
export type ServiceIdentity =
  | { kind: 'none' }
  | { kind: 'static'; header: string }
  | {
      kind: 'client_credentials' | 'token_exchange';
      /** The gateway's client id at the authorization server. */
      clientId: string;
      /** Whose token is sent: the gateway's client (client credentials) or the user (token exchange). */
      subject: string;
      /** Issuer (or token endpoint) that issued the token. */
      authorizationServer: string;
      /** `resource` or `audience` the token was requested for. */
      target: string | undefined;
    };

export interface CredentialState {
  status: 'ready' | 'pending';
  /** Why the last attempt to reach the authorization server failed (no secrets). */
  lastError?: string;
}

/** Headers carrying the credential for one request. */
export interface AppliedCredential {
  headers: Record<string, string>;
  /**
   * After the upstream answered 401 to these headers: a renewed credential to retry with once,
   * or undefined when renewing cannot help. Absent for credentials that cannot be renewed.
   */
  renew?: () => Promise<AppliedCredential | undefined>;
}

export interface ServiceCredential {
  readonly kind: ServiceIdentity['kind'];
  /** @throws GatewayError `upstream_credential_unavailable` (503) or `upstream_credential_refused` (502) */
  apply(caller: UpstreamCaller): Promise<AppliedCredential>;
  describe(caller: UpstreamCaller): ServiceIdentity;
  /**
   * Checks what can be checked before the first request (discovery, the grant, client
   * authentication). Rejects with a `ConfigError` when the authorization server says the
   * configuration is wrong; when it cannot be reached, resolves and keeps retrying in the background.
   */
  start(): Promise<void>;
  stop(): void;
  /** For /readyz. */
  readonly state: CredentialState;
}

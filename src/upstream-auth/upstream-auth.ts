import { X509Certificate } from 'node:crypto';
import type { FetchLike } from '../auth/index.js';
import type { GatewayConfig, UpstreamCredentialConfig } from '../config/index.js';
import { createIdentityPropagation, type IdentityPropagation } from '../identity/index.js';
import type { Logger } from '../log/index.js';
import { createClientCredentials } from './client-credentials.js';
import type { CredentialState, ServiceCredential, ServiceIdentity, UpstreamCaller } from './service-credential.js';
import { createNoCredential, createStaticCredential } from './static-credential.js';
import { createTokenExchange } from './token-exchange.js';

/**
 * The three identities behind one forwarded call, for the audit record: the human, the agent
 * and the gateway's own credential towards the upstream. Plain data; never a token or secret.
 */
export interface CallIdentities {
  /** The human (or service) the client's token speaks for. */
  user: { subject: string; issuer: string };
  /** The agent: the OAuth client the user authorized (`client_id`, else `azp`). */
  agent: { clientId: string | undefined };
  /** The gateway's credential towards the upstream, and its TLS client certificate if any. */
  service: ServiceIdentity & { clientCertificate?: { subject: string; fingerprint256: string } };
}

/** Headers the gateway adds to one upstream request: its credential and the identity headers. */
export interface PreparedUpstreamAuth {
  headers: Record<string, string>;
  /** After an upstream 401: renewed headers to retry with once, or undefined when renewing cannot help. */
  renew?: () => Promise<PreparedUpstreamAuth | undefined>;
}

export interface UpstreamAuth {
  /** Lowercased request headers never taken from the client (the identity headers, so they cannot be forged). */
  readonly dropRequestHeaders: ReadonlySet<string>;
  prepare(caller: UpstreamCaller): Promise<PreparedUpstreamAuth>;
  describe(caller: UpstreamCaller): CallIdentities;
  readonly identity: IdentityPropagation;
  readonly credential: ServiceCredential;
  /** Start-up checks of the credential; rejects with a ConfigError on misconfiguration. */
  start(): Promise<void>;
  stop(): void;
  readonly state: CredentialState & { kind: ServiceIdentity['kind'] };
}

export interface UpstreamAuthDependencies {
  logger: Logger;
  fetch?: FetchLike | undefined;
  now?: (() => number) | undefined;
}

/** Everything the gateway adds towards the upstream, built once from the config. */
export function createUpstreamAuth(config: GatewayConfig, deps: UpstreamAuthDependencies): UpstreamAuth {
  const { upstream } = config;
  // A stdio upstream has no URL, no credential and no TLS (and identity propagation is refused for it by the schema).
  const credential = createServiceCredential(upstream.type === 'stdio' ? undefined : upstream.credential, deps);
  const identity = createIdentityPropagation(config.identity, {
    resourceUrl: config.resource.url,
    upstreamUrl: upstream.type === 'stdio' ? config.resource.url : upstream.url,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const clientCertificate = describeCertificate(upstream.type === 'http' ? upstream.tls?.clientCertificate : undefined);

  async function prepare(caller: UpstreamCaller): Promise<PreparedUpstreamAuth> {
    const [applied, identityHeaders] = await Promise.all([credential.apply(caller), identity.headersFor(caller.principal)]);
    const build = (credentialHeaders: Record<string, string>, renew: (() => Promise<typeof applied | undefined>) | undefined): PreparedUpstreamAuth => ({
      headers: { ...identityHeaders, ...credentialHeaders },
      ...(renew
        ? {
            renew: async () => {
              const renewed = await renew();
              return renewed ? build(renewed.headers, renewed.renew) : undefined;
            },
          }
        : {}),
    });
    return build(applied.headers, applied.renew);
  }

  return {
    dropRequestHeaders: identity.headerNames,
    prepare,
    describe: (caller) => ({
      user: { subject: caller.principal.subject, issuer: caller.principal.issuer },
      agent: { clientId: caller.principal.clientId },
      service: { ...credential.describe(caller), ...(clientCertificate ? { clientCertificate } : {}) },
    }),
    identity,
    credential,
    start: () => credential.start(),
    stop: () => credential.stop(),
    get state() {
      return { kind: credential.kind, ...credential.state };
    },
  };
}

function createServiceCredential(config: UpstreamCredentialConfig | undefined, deps: UpstreamAuthDependencies): ServiceCredential {
  switch (config?.type) {
    case undefined:
      return createNoCredential();
    case 'static':
      return createStaticCredential(config);
    case 'client_credentials':
      return createClientCredentials(config, deps);
    case 'token_exchange':
      return createTokenExchange(config, deps);
  }
}

function describeCertificate(pem: string | undefined): CallIdentities['service']['clientCertificate'] {
  if (!pem) return undefined;
  const certificate = new X509Certificate(pem);
  return { subject: certificate.subject.replace(/\n/g, ', '), fingerprint256: certificate.fingerprint256 };
}

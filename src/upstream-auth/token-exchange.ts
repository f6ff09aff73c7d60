import { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors/index.js';
import type { ServiceCredential, ServiceIdentity, UpstreamCaller } from './service-credential.js';
import {
  buildTargetParameters,
  createConfiguredSlot,
  createConfiguredTokenEndpoint,
  StartupCheck,
  toBearerCredential,
  toGatewayError,
  type TokenCredentialConfig,
  type TokenCredentialDependencies,
} from './token-credential.js';
import { TokenEndpointError } from './token-endpoint.js';
import type { TokenSlot } from './token-slot.js';

/** RFC 8693 §2.1 grant and §3 token type. */
const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * Start-up probe: an exchange with a subject token that cannot be valid (JWT-shaped, so servers
 * that parse it first still reach their signature check). The token endpoint authenticates the
 * client and checks the grant before the subject token (RFC 6749 §3.2.1), so `invalid_client`,
 * `unauthorized_client`, `unsupported_grant_type` (and `invalid_target` on servers that check
 * the target first) reveal a wrong configuration before the first user request.
 * `invalid_grant` / `invalid_token` (the subject token was refused) mean everything before it
 * passed. `invalid_request` is ambiguous (oidc-provider uses it for a client not registered for
 * the grant, others for a subject token they cannot parse): logged as a warning, start-up goes on.
 */
const PROBE_SUBJECT_TOKEN = [
  Buffer.from('{"alg":"ES256","typ":"at+jwt"}').toString('base64url'),
  Buffer.from('{"iss":"urn:mcp-auth-gateway:startup-probe","sub":"probe","exp":1}').toString('base64url'),
  Buffer.alloc(64).toString('base64url'),
].join('.');
const PROBE_PASSED = new Set(['invalid_grant', 'invalid_token']);
const PROBE_INCONCLUSIVE = new Set(['invalid_request']);

/**
 * RFC 8693 token exchange: the validated user token is exchanged at the authorization server
 * for a token whose audience is the upstream, the legitimate alternative to token passthrough.
 * The user token goes only to the token endpoint, as `subject_token`. Exchanged tokens are
 * cached per user token (keyed by its SHA-256 hash, never the token) until shortly before
 * they expire, never beyond the user token's own expiry; renewals are single-flight.
 */
export function createTokenExchange(
  config: Extract<TokenCredentialConfig, { type: 'token_exchange' }>,
  deps: TokenCredentialDependencies,
): ServiceCredential {
  const now = deps.now ?? Date.now;
  const endpoint = createConfiguredTokenEndpoint(config, GRANT_TYPE, deps);
  const parameters = {
    grant_type: GRANT_TYPE,
    subject_token_type: ACCESS_TOKEN_TYPE,
    requested_token_type: ACCESS_TOKEN_TYPE,
    ...buildTargetParameters(config),
  };
  const slots = config.cacheMaxEntries > 0 ? new LRUCache<string, TokenSlot>({ max: config.cacheMaxEntries }) : undefined;
  const startup = new StartupCheck({
    run: probe,
    describe: `token_exchange for ${config.clientId}`,
    hint: 'check clientId, the client secret or key, that the client may use token exchange, and resource/audience',
    logger: deps.logger,
  });
  const authorizationServer = config.issuer ?? config.tokenEndpoint!;
  const target = config.resource ?? config.audience;

  async function probe(): Promise<void> {
    try {
      await endpoint.request({ ...parameters, subject_token: PROBE_SUBJECT_TOKEN });
    } catch (error) {
      if (!(error instanceof TokenEndpointError) || error.transient || !error.oauthError) throw error;
      if (PROBE_PASSED.has(error.oauthError)) return;
      if (PROBE_INCONCLUSIVE.has(error.oauthError)) {
        deps.logger.warn({ error: error.message }, 'token exchange start-up check inconclusive; the first exchange will tell');
        return;
      }
      throw error;
    }
  }

  function slotFor(caller: UpstreamCaller & { subjectToken: NonNullable<UpstreamCaller['subjectToken']> }): TokenSlot {
    if (!slots) return createConfiguredSlot(config, deps);
    const key = caller.subjectToken.hash;
    let slot = slots.get(key);
    if (!slot) {
      slot = createConfiguredSlot(config, deps);
      // Gone with the user token: an exchanged token never outlives the token it came from.
      slots.set(key, slot, { ttl: Math.max(1, caller.principal.expiresAt * 1000 - now()) });
    }
    return slot;
  }

  return {
    kind: 'token_exchange',
    async apply(caller) {
      const { subjectToken } = caller;
      if (!subjectToken) throw new GatewayError('internal', { detail: 'token exchange needs the caller\'s verified token' });
      const slot = slotFor({ ...caller, subjectToken });
      const exchange = async () => {
        const token = await endpoint.request({ ...parameters, subject_token: subjectToken.reveal() });
        startup.markReady();
        return token;
      };
      try {
        return toBearerCredential(slot, await slot.get(exchange), exchange, config.failureCooldownMs);
      } catch (error) {
        throw toGatewayError(error, config.failureCooldownMs);
      }
    },
    describe: (caller): ServiceIdentity => ({
      kind: 'token_exchange',
      clientId: config.clientId,
      subject: caller.principal.subject,
      authorizationServer,
      target,
    }),
    start: () => startup.start(),
    stop: () => startup.stop(),
    get state() {
      return startup.state;
    },
  };
}

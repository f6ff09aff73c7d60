import type { ServiceCredential, ServiceIdentity } from './service-credential.js';
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
import type { IssuedToken } from './token-endpoint.js';

const GRANT_TYPE = 'client_credentials';

/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4): one token for the gateway itself, sent to the
 * upstream as `Authorization: Bearer`. Cached until shortly before it expires; renewals are
 * single-flight; an upstream 401 renews it once and the request is retried.
 * At start-up the first token is fetched, so a wrong secret, scope or resource stops the gateway.
 */
export function createClientCredentials(
  config: Extract<TokenCredentialConfig, { type: 'client_credentials' }>,
  deps: TokenCredentialDependencies,
): ServiceCredential {
  const endpoint = createConfiguredTokenEndpoint(config, GRANT_TYPE, deps);
  const parameters = { grant_type: GRANT_TYPE, ...buildTargetParameters(config) };
  const slot = createConfiguredSlot(config, deps);
  const fetchToken = async (): Promise<IssuedToken> => {
    const token = await endpoint.request(parameters);
    startup.markReady();
    return token;
  };
  const startup = new StartupCheck({
    run: async () => {
      await slot.get(fetchToken);
    },
    describe: `client_credentials for ${config.clientId}`,
    hint: 'check clientId, the client secret or key, scope and resource/audience',
    logger: deps.logger,
  });
  const identity: ServiceIdentity = {
    kind: 'client_credentials',
    clientId: config.clientId,
    subject: config.clientId,
    authorizationServer: config.issuer ?? config.tokenEndpoint!,
    target: config.resource ?? config.audience,
  };

  return {
    kind: 'client_credentials',
    async apply() {
      try {
        return toBearerCredential(slot, await slot.get(fetchToken), fetchToken, config.failureCooldownMs);
      } catch (error) {
        throw toGatewayError(error, config.failureCooldownMs);
      }
    },
    describe: () => identity,
    start: () => startup.start(),
    stop: () => startup.stop(),
    get state() {
      return startup.state;
    },
  };
}

import { canonicalAudience } from '../auth/index.js';
import type { Logger } from '../log/index.js';
import type { AccessTokenSigner } from './access-tokens.js';
import type { AuthorizationCodes } from './authorization-codes.js';
import type { ClientResolver } from './clients.js';
import { OAuthError, toOAuthError } from './oauth-error.js';
import { randomSecret, sha256, verifyPkce } from './secrets.js';
import type { RefreshTokenFamily, RefreshTokenStore } from './store/index.js';

export interface TokenEndpointOptions {
  clients: ClientResolver;
  codes: AuthorizationCodes;
  refreshTokens: RefreshTokenStore;
  signer: AccessTokenSigner;
  /** Absolute lifetime of a refresh token family, in seconds; 0: no refresh tokens. */
  refreshTokenTtlSeconds: number;
  logger: Logger;
  now?: () => number;
}

/** A token endpoint answer: 200 with tokens, or an RFC 6749 §5.2 error. */
export type TokenResponse = { status: 200; body: Record<string, unknown> } | { status: number; error: OAuthError };

const SINGLE_VALUED = ['grant_type', 'code', 'redirect_uri', 'code_verifier', 'client_id', 'refresh_token', 'scope'];

/**
 * The token endpoint (RFC 6749 §3.2, OAuth 2.1 §4.1.3 / §4.3) for public clients:
 * - `authorization_code`: the code single-use (a replay is refused and revokes the refresh tokens
 *   the first redemption issued), bound to the same client, redirect URI, PKCE verifier (S256)
 *   and resource;
 * - `refresh_token`: rotation on every use; a rotated-away token presented again revokes the
 *   whole family (reuse detection); a narrower `scope` may be asked, never a wider one;
 * - `resource`, when sent, must be this gateway's (invalid_target).
 * Refresh tokens are opaque (256 bits) and stored hashed; the response is never cached.
 */
export function createTokenEndpoint(options: TokenEndpointOptions) {
  const now = options.now ?? Date.now;
  const seconds = () => Math.floor(now() / 1000);

  async function identifyClient(form: URLSearchParams, authorization: string | undefined): Promise<string> {
    // Every facade client is public (token_endpoint_auth_method none): a client that authenticates is not one of ours.
    if (authorization !== undefined || form.has('client_secret') || form.has('client_assertion')) {
      throw new OAuthError('invalid_client', 'Only public clients are supported; send client_id without client authentication');
    }
    const clientId = form.get('client_id');
    if (!clientId) throw new OAuthError('invalid_client', 'client_id is required');
    return options.clients.identify(clientId);
  }

  function checkResource(form: URLSearchParams, bound: string): void {
    const resources = form.getAll('resource');
    if (resources.length > 1 || (resources.length === 1 && canonicalAudience(resources[0]!) !== canonicalAudience(bound))) {
      throw new OAuthError('invalid_target', 'The resource parameter must name this MCP server');
    }
  }

  async function issue(family: Pick<RefreshTokenFamily, 'subject' | 'clientId' | 'resource' | 'claims' | 'authTime'>, scopes: readonly string[], refreshToken: string | undefined) {
    const { token, expiresIn } = await options.signer.sign({
      subject: family.subject,
      clientId: family.clientId,
      scopes,
      resource: family.resource,
      claims: family.claims,
      authTime: family.authTime,
    });
    return {
      access_token: token,
      token_type: 'Bearer',
      expires_in: expiresIn,
      scope: scopes.join(' '),
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    };
  }

  async function authorizationCodeGrant(form: URLSearchParams, clientId: string): Promise<Record<string, unknown>> {
    const code = form.get('code');
    if (!code) throw new OAuthError('invalid_request', 'code is required');
    const redemption = await options.codes.redeem(code);
    if (redemption.kind === 'replayed') {
      if (redemption.familyId) await options.refreshTokens.revoke(redemption.familyId, 'authorization code replay');
      options.logger.warn({ clientId: clientId, familyRevoked: Boolean(redemption.familyId) }, 'authorization code replayed; refused');
      throw new OAuthError('invalid_grant', 'The authorization code is invalid, expired or already used');
    }
    if (redemption.kind === 'unknown') throw new OAuthError('invalid_grant', 'The authorization code is invalid, expired or already used');
    const { grant, codeKey } = redemption;
    if (grant.clientId !== clientId) throw new OAuthError('invalid_grant', 'The authorization code was issued to another client');
    const redirectUri = form.get('redirect_uri');
    if ((grant.redirectUriSent || redirectUri !== null) && redirectUri !== grant.redirectUri) {
      throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
    }
    const verifier = form.get('code_verifier');
    if (!verifier || !verifyPkce(verifier, grant.codeChallenge)) throw new OAuthError('invalid_grant', 'The PKCE code_verifier does not match');
    checkResource(form, grant.resource);

    let refreshToken: string | undefined;
    const base = { clientId: clientId, subject: grant.subject, scopes: grant.scopes, resource: grant.resource, claims: grant.claims, authTime: grant.authTime };
    if (options.refreshTokenTtlSeconds > 0 && grant.refreshTokens) {
      refreshToken = randomSecret();
      const createdAt = seconds();
      const familyId = randomSecret();
      await options.refreshTokens.create({ ...base, id: familyId, createdAt, expiresAt: createdAt + options.refreshTokenTtlSeconds, currentHash: sha256(refreshToken) });
      await options.codes.linkFamily(codeKey, familyId);
    }
    options.logger.info({ clientId: clientId, subject: grant.subject, scopes: grant.scopes, refreshToken: refreshToken !== undefined }, 'tokens issued for an authorization code');
    return issue(base, grant.scopes, refreshToken);
  }

  async function refreshTokenGrant(form: URLSearchParams, clientId: string): Promise<Record<string, unknown>> {
    const presented = form.get('refresh_token');
    if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required');
    const presentedHash = sha256(presented);
    const known = await options.refreshTokens.findFamily(presentedHash);
    if (known && known.clientId !== clientId) {
      // A refresh token in the hands of another client was stolen: end the family.
      await options.refreshTokens.revoke(known.id, 'refresh token presented by another client');
      options.logger.warn({ clientId: clientId, familyClientId: known.clientId }, 'refresh token presented by another client; the token family is revoked');
      throw new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked');
    }
    // Checked before rotating, so a bad request does not use the token up.
    let scopes = known?.scopes ?? [];
    if (known) {
      checkResource(form, known.resource);
      const requested = form.get('scope');
      if (requested !== null) {
        const narrowed = [...new Set(requested.split(' ').filter((scope) => scope && scope !== 'offline_access'))];
        if (narrowed.some((scope) => !known.scopes.includes(scope))) throw new OAuthError('invalid_scope', 'A refresh cannot widen the granted scopes');
        scopes = narrowed;
      }
    }
    const next = randomSecret();
    const result = await options.refreshTokens.rotate(presentedHash, sha256(next), seconds());
    if (result.outcome === 'reused') {
      options.logger.warn({ clientId: clientId, subject: result.family.subject }, 'refresh token reuse detected; the token family is revoked');
      throw new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked');
    }
    if (result.outcome !== 'rotated' || result.family.clientId !== clientId) throw new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked');
    return issue(result.family, scopes, next);
  }

  return {
    async handle(form: URLSearchParams, authorization: string | undefined): Promise<TokenResponse> {
      try {
        if (SINGLE_VALUED.some((name) => form.getAll(name).length > 1)) throw new OAuthError('invalid_request', 'Request parameters must not be repeated');
        const grantType = form.get('grant_type');
        if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
          throw new OAuthError(grantType ? 'unsupported_grant_type' : 'invalid_request', grantType ? 'Only authorization_code and refresh_token are supported' : 'grant_type is required');
        }
        const clientId = await identifyClient(form, authorization);
        const body = grantType === 'authorization_code' ? await authorizationCodeGrant(form, clientId) : await refreshTokenGrant(form, clientId);
        return { status: 200, body };
      } catch (error) {
        const oauthError = toOAuthError(error);
        if (oauthError.code === 'server_error') options.logger.error({ err: oauthError.cause ?? error }, 'token request failed');
        return { status: oauthError.status, error: oauthError };
      }
    },

    /** RFC 7009: revokes the family of a refresh token; any other token (access tokens expire by themselves) is acknowledged. */
    async revoke(form: URLSearchParams, authorization: string | undefined): Promise<TokenResponse> {
      try {
        const clientId = await identifyClient(form, authorization);
        const token = form.get('token');
        if (!token) throw new OAuthError('invalid_request', 'token is required');
        const family = await options.refreshTokens.findFamily(sha256(token));
        // RFC 7009 §2.1: only the client the token was issued to may revoke it.
        if (family && family.clientId === clientId) {
          await options.refreshTokens.revoke(family.id, 'revoked by its client');
          options.logger.info({ clientId: clientId }, 'refresh token family revoked by its client');
        }
        return { status: 200, body: {} };
      } catch (error) {
        const oauthError = toOAuthError(error);
        return { status: oauthError.status, error: oauthError };
      }
    },
  };
}
export type TokenEndpoint = ReturnType<typeof createTokenEndpoint>;

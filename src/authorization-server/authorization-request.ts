import { canonicalAudience } from '../auth/index.js';
import type { ClientResolver } from './clients.js';
import type { OAuthClient } from './client-metadata.js';
import { OAuthError } from './oauth-error.js';
import { isPkceValue } from './secrets.js';

/** A validated authorization request: everything later steps need, bound together. */
export interface AuthorizationRequest {
  client: OAuthClient;
  /** A URI registered for the client, exactly as sent (or the only registered one when none was sent). */
  redirectUri: string;
  /** Whether the request named redirect_uri (then the token request must repeat it, RFC 6749 §4.1.3). */
  redirectUriSent: boolean;
  state: string | undefined;
  codeChallenge: string;
  /** Granted scopes (offline_access is accepted but not a resource scope, so not kept). */
  scopes: string[];
  /** The resource, as configured (the audience of the tokens). */
  resource: string;
}

export type AuthorizationRequestCheck =
  | { ok: true; request: AuthorizationRequest }
  /** `redirect` only once the client and its redirect URI are known good; otherwise the user sees an error page. */
  | { ok: false; error: OAuthError; redirect?: { redirectUri: string; state: string | undefined } };

export interface AuthorizationRequestRules {
  clients: ClientResolver;
  resourceUrl: string;
  scopes: ReadonlySet<string>;
}

const MAX_STATE_LENGTH = 1024;
const SINGLE_VALUED = ['client_id', 'redirect_uri', 'response_type', 'state', 'scope', 'code_challenge', 'code_challenge_method'];

/**
 * Checks an authorization request (RFC 6749 §4.1.1, OAuth 2.1, RFC 8707, MCP authorization):
 * 1. `client_id` known (registered, or a valid client ID metadata document) and `redirect_uri` an
 *    exact match of a registered one — until both hold, errors are shown to the user, never
 *    redirected (RFC 6749 §4.1.2.1: no redirect to an unvalidated URI);
 * 2. then, redirected with the error: `response_type=code`; PKCE with S256 only; exactly one
 *    `resource`, this gateway's (else invalid_target); scopes among those configured.
 */
export async function checkAuthorizationRequest(params: URLSearchParams, rules: AuthorizationRequestRules): Promise<AuthorizationRequestCheck> {
  const fail = (code: ConstructorParameters<typeof OAuthError>[0], description: string) => ({ ok: false as const, error: new OAuthError(code, description) });
  const clientIds = params.getAll('client_id');
  if (clientIds.length !== 1 || !clientIds[0]) return fail('invalid_request', 'The request must name exactly one client_id');
  let client: OAuthClient;
  try {
    client = await rules.clients.resolve(clientIds[0]);
  } catch (error) {
    if (error instanceof OAuthError) return { ok: false, error };
    throw error;
  }
  const redirectUris = params.getAll('redirect_uri');
  if (redirectUris.length > 1) return fail('invalid_request', 'The request must not repeat redirect_uri');
  const sent = redirectUris[0];
  if (sent === undefined && client.redirectUris.length !== 1) return fail('invalid_request', 'The request must name its redirect_uri');
  const redirectUri = sent ?? client.redirectUris[0]!;
  // Exact string comparison (RFC 9700 §4.1.1), also for loopback URIs: the port is part of it.
  if (!client.redirectUris.includes(redirectUri)) return fail('invalid_request', 'The redirect_uri is not registered for this client');

  const stateValues = params.getAll('state');
  const state = stateValues.length === 1 && stateValues[0]!.length <= MAX_STATE_LENGTH ? stateValues[0] : undefined;
  const redirectError = (code: ConstructorParameters<typeof OAuthError>[0], description: string): AuthorizationRequestCheck => ({
    ok: false,
    error: new OAuthError(code, description),
    redirect: { redirectUri, state },
  });
  if (stateValues.length > 1 || (stateValues.length === 1 && state === undefined)) return redirectError('invalid_request', 'state must be sent once, at most 1024 characters');
  for (const name of SINGLE_VALUED) if (params.getAll(name).length > 1) return redirectError('invalid_request', 'Request parameters must not be repeated');

  if (params.get('response_type') !== 'code') return redirectError('unsupported_response_type', 'Only the code response type is supported');
  const codeChallenge = params.get('code_challenge');
  if (!codeChallenge || !isPkceValue(codeChallenge)) return redirectError('invalid_request', 'PKCE is required: send a code_challenge');
  if (params.get('code_challenge_method') !== 'S256') return redirectError('invalid_request', 'PKCE code_challenge_method must be S256');

  const resources = params.getAll('resource');
  if (resources.length !== 1 || canonicalAudience(resources[0]!) !== canonicalAudience(rules.resourceUrl)) {
    return redirectError('invalid_target', 'The resource parameter must name this MCP server exactly once');
  }

  const requested = [...new Set((params.get('scope') ?? '').split(' ').filter(Boolean))];
  if (requested.some((scope) => scope !== 'offline_access' && !rules.scopes.has(scope))) return redirectError('invalid_scope', 'A requested scope is not available');

  return {
    ok: true,
    request: {
      client,
      redirectUri,
      redirectUriSent: sent !== undefined,
      state,
      codeChallenge,
      scopes: requested.filter((scope) => scope !== 'offline_access'),
      resource: rules.resourceUrl,
    },
  };
}

import type { Logger } from '../log/index.js';
import type { AuthorizationCodes } from './authorization-codes.js';
import { checkAuthorizationRequest, type AuthorizationRequest, type AuthorizationRequestRules } from './authorization-request.js';
import { ensureBinding, readBindingCookie } from './browser-binding.js';
import { IdentityProviderError, type IdentityProviderClient } from './identity-provider.js';
import { buildErrorRedirect, buildRedirect, OAuthError, toOAuthError } from './oauth-error.js';
import { renderConsentPage, renderErrorPage } from './pages.js';
import { randomSecret, safeEqual, sha256, type TaggedSecrets } from './secrets.js';
import type { EphemeralStore } from './store/index.js';

/** An authorization request waiting for the user's consent. */
export interface PendingAuthorization {
  request: AuthorizationRequest;
  /** SHA-256 of the browser binding cookie. */
  bindingHash: string;
  csrfToken: string;
}

/** A login in progress at the identity provider, keyed by the `state` sent there. */
export interface LoginInProgress {
  request: AuthorizationRequest;
  bindingHash: string;
  nonce: string;
  codeVerifier: string;
}

/** What the HTTP layer sends back: a page or a redirect, plus the binding cookie when set. */
export type FlowResponse =
  | { kind: 'page'; status: number; html: string; setCookie?: string }
  | { kind: 'redirect'; status: 302 | 303; location: string; setCookie?: string };

export interface LoginFlowOptions {
  issuer: string;
  consentUrl: string;
  rules: AuthorizationRequestRules;
  identityProvider: IdentityProviderClient;
  identityProviderHost: string;
  codes: AuthorizationCodes;
  pending: EphemeralStore<PendingAuthorization>;
  logins: EphemeralStore<LoginInProgress>;
  secrets: TaggedSecrets;
  loginTimeoutMs: number;
  resourceName: string;
  logger: Logger;
}

/**
 * The browser side of the facade, as plain functions of the request (the Hono routes only adapt):
 *
 *   GET  authorize  → validate the request, show the consent page (cookie-bound, CSRF token)
 *   POST consent    → check binding + CSRF; deny → back to the client with access_denied;
 *                     approve → to the identity provider (state, nonce, PKCE)
 *   GET  callback   → state single-use and bound to the browser; iss checked; code redeemed and
 *                     the ID token validated; an authorization code for the client, with iss
 *
 * The consent comes before the identity provider (MCP confused-deputy rule: a proxy with one
 * static client id at a third-party AS must get consent per client before forwarding there).
 * Nothing is remembered between authorizations: every authorization asks again.
 */
export function createLoginFlow(options: LoginFlowOptions) {
  const { issuer, logger, secrets } = options;
  const loginTimeoutSeconds = Math.floor(options.loginTimeoutMs / 1000);
  const issuerOrigin = new URL(options.consentUrl).origin;

  const errorPage = (status: number, title: string, message: string): FlowResponse => ({ kind: 'page', status, html: renderErrorPage(title, message) });
  const redirectError = (request: Pick<AuthorizationRequest, 'redirectUri' | 'state'>, error: OAuthError): FlowResponse => ({
    kind: 'redirect',
    status: 302,
    location: buildErrorRedirect(request.redirectUri, error, request.state, issuer),
  });
  const bindingMatches = (cookieHeader: string | undefined, bindingHash: string) => {
    const binding = readBindingCookie(cookieHeader);
    return binding !== undefined && safeEqual(sha256(binding), bindingHash);
  };

  async function authorize(params: URLSearchParams, cookieHeader: string | undefined): Promise<FlowResponse> {
    const check = await checkAuthorizationRequest(params, options.rules);
    if (!check.ok) {
      logger.info({ error: check.error.code, detail: check.error.detail ?? check.error.description, redirected: Boolean(check.redirect) }, 'authorization request refused');
      if (check.redirect) return redirectError(check.redirect, check.error);
      return errorPage(check.error.status === 401 ? 400 : check.error.status, 'This authorization request cannot be processed', check.error.description);
    }
    const { request } = check;
    const binding = ensureBinding(cookieHeader, loginTimeoutSeconds);
    const requestId = secrets.next();
    const csrfToken = randomSecret();
    await options.pending.set(requestId, { request, bindingHash: sha256(binding.value), csrfToken }, options.loginTimeoutMs);
    return {
      kind: 'page',
      status: 200,
      setCookie: binding.setCookie,
      html: renderConsentPage({
        client: request.client,
        redirectUri: request.redirectUri,
        scopes: request.scopes,
        resourceName: options.resourceName,
        resourceUrl: request.resource,
        identityProviderHost: options.identityProviderHost,
        consentAction: options.consentUrl,
        requestId,
        csrfToken,
      }),
    };
  }

  async function consent(form: URLSearchParams, cookieHeader: string | undefined, origin: string | undefined): Promise<FlowResponse> {
    // Defence in depth besides the CSRF token and the binding cookie: a browser's form POST names its origin.
    if (origin !== undefined && origin !== issuerOrigin) {
      logger.warn('consent refused: posted from another origin');
      return errorPage(403, 'Consent could not be verified', 'The consent did not come from the page this browser was shown.');
    }
    const requestId = form.get('request_id') ?? '';
    const pending = requestId ? await options.pending.get(requestId) : undefined;
    if (!pending) {
      if (secrets.foreignTag(requestId)) logger.warn({ issuedBy: secrets.foreignTag(requestId) }, 'consent for an authorization request of another replica: use sticky sessions');
      return errorPage(400, 'This authorization request has expired', 'The consent page is no longer valid.');
    }
    const csrfToken = form.get('csrf_token') ?? '';
    if (!safeEqual(csrfToken, pending.csrfToken) || !bindingMatches(cookieHeader, pending.bindingHash)) {
      logger.warn({ clientId: pending.request.client.clientId }, 'consent refused: CSRF token or browser binding does not match');
      return errorPage(403, 'Consent could not be verified', 'The consent did not come from the page this browser was shown.');
    }
    // Single use: a second submission of the same page finds nothing.
    await options.pending.delete(requestId);
    const { request } = pending;
    if (form.get('decision') !== 'approve') {
      logger.info({ clientId: request.client.clientId }, 'consent denied by the user');
      return { ...redirectError(request, new OAuthError('access_denied', 'The user denied the request')), status: 303 };
    }

    const state = secrets.next();
    const nonce = randomSecret();
    const codeVerifier = randomSecret();
    let location: string;
    try {
      location = await options.identityProvider.authorizationUrl({ state, nonce, codeChallenge: sha256(codeVerifier) });
    } catch (error) {
      logger.error({ error: (error as Error).message }, 'identity provider unavailable');
      const unavailable = error instanceof IdentityProviderError && error.transient;
      const failure = new OAuthError(unavailable ? 'temporarily_unavailable' : 'server_error', 'The identity provider is not available');
      return { ...redirectError(request, failure), status: 303 };
    }
    await options.logins.set(state, { request, bindingHash: pending.bindingHash, nonce, codeVerifier }, options.loginTimeoutMs);
    logger.info({ clientId: request.client.clientId, scopes: request.scopes }, 'consent given; sending the user to the identity provider');
    return { kind: 'redirect', status: 303, location };
  }

  async function callback(params: URLSearchParams, cookieHeader: string | undefined): Promise<FlowResponse> {
    const state = params.get('state') ?? '';
    // Single use: taken at once, so a replayed state (or a second callback) finds nothing.
    const login = state && params.getAll('state').length === 1 ? await options.logins.take(state) : undefined;
    if (!login) {
      const tag = secrets.foreignTag(state);
      if (tag) logger.warn({ issuedBy: tag }, 'login state issued by another replica: use sticky sessions or a shared store');
      else logger.warn('identity provider callback with an unknown, expired or already used state');
      return errorPage(400, 'This login is no longer valid', 'The login was already completed, has expired, or was not started in this browser.');
    }
    if (!bindingMatches(cookieHeader, login.bindingHash)) {
      logger.warn({ clientId: login.request.client.clientId }, 'identity provider callback from another browser than the one that consented');
      return errorPage(403, 'This login is no longer valid', 'The login was not started in this browser.');
    }
    const { request } = login;
    const idpError = params.get('error');
    if (idpError !== null) {
      logger.info({ error: idpError.slice(0, 64) }, 'identity provider returned an error');
      const code = idpError === 'temporarily_unavailable' ? 'temporarily_unavailable' : idpError === 'server_error' ? 'server_error' : 'access_denied';
      return redirectError(request, new OAuthError(code, 'The login at the identity provider did not complete'));
    }
    const code = params.get('code');
    if (!code || params.getAll('code').length !== 1) return redirectError(request, new OAuthError('server_error', 'The identity provider answered without a code'));

    let login_;
    try {
      login_ = await options.identityProvider.completeLogin({ code, iss: params.get('iss') ?? undefined }, login);
    } catch (error) {
      logger.error({ error: (error as Error).message, clientId: request.client.clientId }, 'login at the identity provider failed');
      const unavailable = error instanceof IdentityProviderError && error.transient;
      return redirectError(request, new OAuthError(unavailable ? 'temporarily_unavailable' : 'access_denied', 'The login at the identity provider could not be verified'));
    }
    const authorizationCode = await options.codes.issue({
      clientId: request.client.clientId,
      redirectUri: request.redirectUri,
      redirectUriSent: request.redirectUriSent,
      codeChallenge: request.codeChallenge,
      scopes: request.scopes,
      resource: request.resource,
      subject: login_.subject,
      claims: login_.claims,
      authTime: login_.authTime,
      refreshTokens: request.client.grantTypes.includes('refresh_token'),
    });
    logger.info({ clientId: request.client.clientId, subject: login_.subject, scopes: request.scopes }, 'user logged in; authorization code issued');
    return { kind: 'redirect', status: 302, location: buildRedirect(request.redirectUri, { code: authorizationCode, state: request.state, iss: issuer }) };
  }

  /** Every entry point: an unexpected failure becomes an error page, never a crash or a redirect to somewhere unchecked. */
  const guard =
    <A extends unknown[]>(step: (...args: A) => Promise<FlowResponse>) =>
    async (...args: A): Promise<FlowResponse> => {
      try {
        return await step(...args);
      } catch (error) {
        logger.error({ err: toOAuthError(error).cause ?? error }, 'authorization step failed');
        return errorPage(500, 'Something went wrong', 'The authorization server could not complete this step.');
      }
    };

  return { authorize: guard(authorize), consent: guard(consent), callback: guard(callback) };
}
export type LoginFlow = ReturnType<typeof createLoginFlow>;

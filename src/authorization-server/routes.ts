import type { Context, Handler, Hono, MiddlewareHandler } from 'hono';
import { createJwksEndpoint, type GatewayEnv } from '../http/index.js';
import type { KeyRing } from '../identity/index.js';
import type { Logger } from '../log/index.js';
import type { AddressLimiter } from './address-limit.js';
import type { FacadeEndpoints } from './endpoints.js';
import type { FlowResponse, LoginFlow } from './login-flow.js';
import { buildErrorBody, NO_STORE_HEADERS, OAuthError, toOAuthError } from './oauth-error.js';
import { PAGE_HEADERS, renderErrorPage } from './pages.js';
import type { Registration } from './registration.js';
import { readForm, readJson } from './request-body.js';
import type { TokenEndpoint, TokenResponse } from './token-endpoint.js';

export interface FacadeRoutes {
  endpoints: FacadeEndpoints;
  metadataJson: string;
  keyRing: KeyRing;
  flow: LoginFlow;
  tokens: TokenEndpoint;
  registration: Registration | undefined;
  /** Per client address, on the endpoints that store (register) or may fetch (authorize). */
  addressLimiter: AddressLimiter;
  logger: Logger;
}

/** What back-channel endpoints allow from browsers: any origin (public clients, no cookies; PKCE binds the code). */
const CORS = { 'access-control-allow-origin': '*' };

function preflight(methods: string): Handler<GatewayEnv> {
  return (c) => c.body(null, 204, { ...CORS, 'access-control-allow-methods': methods, 'access-control-allow-headers': 'content-type, authorization', 'access-control-max-age': '600' });
}

function sendFlow(c: Context<GatewayEnv>, response: FlowResponse): Response {
  const cookie: Record<string, string> = response.setCookie ? { 'set-cookie': response.setCookie } : {};
  if (response.kind === 'page') return c.body(response.html, response.status as 200, { ...PAGE_HEADERS, ...cookie });
  return c.body(null, response.status, { location: response.location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', ...cookie });
}

function sendOAuthError(c: Context<GatewayEnv>, error: OAuthError): Response {
  return c.body(buildErrorBody(error), error.status as 400, { 'content-type': 'application/json', ...NO_STORE_HEADERS, ...CORS });
}

function sendToken(c: Context<GatewayEnv>, response: TokenResponse): Response {
  if ('error' in response) return sendOAuthError(c, response.error);
  return c.body(JSON.stringify(response.body), 200, { 'content-type': 'application/json', ...NO_STORE_HEADERS, ...CORS });
}

/**
 * The facade's endpoints on the gateway's app, as thin adapters: read the request, call the
 * flow, token endpoint or registration, write what they return. Errors a handler did not turn
 * into a protocol answer become `server_error` here (JSON) or an error page (browser endpoints).
 */
export function mountFacadeRoutes(app: Hono<GatewayEnv>, routes: FacadeRoutes): void {
  const { paths } = routes.endpoints;
  const query = (c: Context<GatewayEnv>) => new URL(c.req.url).searchParams;

  const metadata: Handler<GatewayEnv> = (c) =>
    c.body(routes.metadataJson, 200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300', ...CORS });
  for (const path of paths.metadata) {
    app.get(path, metadata);
    app.options(path, preflight('GET, OPTIONS'));
  }
  app.on(['GET', 'OPTIONS'], paths.jwks, createJwksEndpoint(routes.keyRing));

  const limited = (refuse: (retryAfterSeconds: number) => Response): MiddlewareHandler<GatewayEnv> =>
    async function limitByAddress(c, next) {
      const retryAfterSeconds = routes.addressLimiter.take(c);
      if (retryAfterSeconds > 0) return refuse(retryAfterSeconds);
      await next();
    };
  const tooManyPage = (retryAfterSeconds: number) =>
    new Response(renderErrorPage('Too many requests', 'Wait a moment, then start again from the application.'), {
      status: 429,
      headers: { ...PAGE_HEADERS, 'retry-after': String(retryAfterSeconds) },
    });
  const tooManyJson = (retryAfterSeconds: number) =>
    new Response(buildErrorBody(new OAuthError('temporarily_unavailable', 'Too many requests; retry later')), {
      status: 429,
      headers: { 'content-type': 'application/json', ...NO_STORE_HEADERS, ...CORS, 'retry-after': String(retryAfterSeconds) },
    });

  app.get(paths.authorize, limited(tooManyPage), async function facadeAuthorize(c) {
    return sendFlow(c, await routes.flow.authorize(query(c), c.req.header('cookie')));
  });
  app.post(paths.consent, async function facadeConsent(c) {
    let form: URLSearchParams;
    try {
      form = await readForm(c.req.raw);
    } catch {
      return c.body(renderErrorPage('Consent could not be verified', 'The consent form was not submitted correctly.'), 400, PAGE_HEADERS);
    }
    return sendFlow(c, await routes.flow.consent(form, c.req.header('cookie'), c.req.header('origin')));
  });
  app.get(paths.callback, async function facadeCallback(c) {
    return sendFlow(c, await routes.flow.callback(query(c), c.req.header('cookie')));
  });

  const backChannel = (name: string, handle: (c: Context<GatewayEnv>) => Promise<Response>): Handler<GatewayEnv> =>
    async function facadeBackChannel(c) {
      try {
        return await handle(c);
      } catch (error) {
        const oauthError = toOAuthError(error);
        if (oauthError.code === 'server_error') routes.logger.error({ err: oauthError.cause ?? error, endpoint: name }, 'authorization server request failed');
        return sendOAuthError(c, oauthError);
      }
    };
  app.post(paths.token, backChannel('token', async (c) => sendToken(c, await routes.tokens.handle(await readForm(c.req.raw), c.req.header('authorization')))));
  app.options(paths.token, preflight('POST, OPTIONS'));
  app.post(paths.revoke, backChannel('revoke', async (c) => sendToken(c, await routes.tokens.revoke(await readForm(c.req.raw), c.req.header('authorization')))));
  app.options(paths.revoke, preflight('POST, OPTIONS'));

  const { registration } = routes;
  if (registration) {
    app.post(
      paths.register,
      limited(tooManyJson),
      backChannel('register', async (c) => {
        const information = await registration.register(await readJson(c.req.raw));
        return c.body(JSON.stringify(information), 201, { 'content-type': 'application/json', ...NO_STORE_HEADERS, ...CORS });
      }),
    );
    app.options(paths.register, preflight('POST, OPTIONS'));
  }

  // Any other method on these paths: a protocol error, not the MCP endpoint's 404.
  for (const path of [paths.authorize, paths.consent, paths.callback, paths.token, paths.revoke, ...(registration ? [paths.register] : [])]) {
    app.all(path, (c) => sendOAuthError(c, new OAuthError('invalid_request', 'Method not allowed on this endpoint')));
  }
}

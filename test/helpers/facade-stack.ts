/**
 * The gateway as the authorization server facade, with real parts on 127.0.0.1: oidc-provider as
 * the company identity provider WITHOUT dynamic registration (as Entra ID is; the gateway is
 * pre-registered there as a confidential client), an SDK MCP server upstream, and the gateway.
 * `restart()` replaces the gateway process-state with a new one on the same port and data directory.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { validateConfig, type GatewayConfig, type GatewayConfigInput } from '../../src/config/index.js';
import { startDemoAuthorizationServer, type DemoAuthorizationServer } from '../../src/demo/authorization-server.js';
import { HeadlessBrowser, type HeadlessBrowserOptions } from '../../src/demo/headless-browser.js';
import { HeadlessOAuthProvider } from '../../src/demo/headless-oauth-client.js';
import { startDemoUpstream, type DemoUpstream } from '../../src/demo/upstream-server.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log/index.js';
import type { HttpsFixture } from './https-fixture.js';
import { findFreePort } from './ports.js';
import { SERVICE_KEY } from './stack.js';
import { TLS } from './tls-fixtures.js';

export const IDP_CLIENT_ID = 'mcp-gateway';
export const IDP_CLIENT_SECRET = 'idp-client-secret-for-tests-0123456789';
export const FACADE_SCOPES = ['tickets:read', 'tickets:write', 'tickets:triage', 'admin'];

export interface FacadeStackOptions {
  /** The identity provider's user and the claims it asserts. */
  user?: { sub: string; claims?: Record<string, unknown> };
  policyDirectory?: string;
  /** An https fixture serving client ID metadata documents: its origin gets the test-only loopback allowance. */
  cimdFixture?: HttpsFixture;
  config?: (config: GatewayConfigInput) => GatewayConfigInput;
}

export interface FacadeStack {
  idp: DemoAuthorizationServer;
  upstream: DemoUpstream;
  gateway: Gateway;
  config: GatewayConfig;
  /** The gateway's origin: also the facade's issuer. */
  issuer: string;
  mcpUrl: string;
  dataDirectory: string;
  /** The facade's signing key (PEM), so tests can craft tokens. */
  signingKeyPem: string;
  logOutput(): string;
  /** A fresh browser, and an SDK OAuth provider that drives it. */
  browser(options?: HeadlessBrowserOptions): HeadlessBrowser;
  provider(options?: { browser?: HeadlessBrowser; clientMetadataUrl?: string; keepRefreshTokens?: boolean }): HeadlessOAuthProvider;
  /** Stops the gateway and starts a new one with the same config (same port, same data directory). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startFacadeStack(options: FacadeStackOptions = {}): Promise<FacadeStack> {
  const [port, upstreamPort] = await Promise.all([findFreePort(), findFreePort()]);
  const issuer = `http://127.0.0.1:${port}`;
  const mcpUrl = `${issuer}/mcp`;
  const dataDirectory = mkdtempSync(join(tmpdir(), 'mcp-gw-facade-'));
  const signingKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

  const idp = await startDemoAuthorizationServer({
    // The identity provider knows nothing of the MCP server: two unrelated resources, so no default audience.
    resources: [
      { resource: 'http://127.0.0.1:1/unrelated-a', scopes: ['unrelated'] },
      { resource: 'http://127.0.0.1:1/unrelated-b', scopes: ['unrelated'] },
    ],
    dynamicRegistration: false,
    clients: [
      {
        client_id: IDP_CLIENT_ID,
        client_secret: IDP_CLIENT_SECRET,
        redirect_uris: [`${issuer}/oauth/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    user: options.user ?? { sub: 'alice', claims: { groups: ['staff'], email: 'alice@example.com' } },
    idTokenClaims: { email: ['email'], groups: ['groups'] },
  });
  const upstream = await startDemoUpstream({ port: upstreamPort, requiredCredential: { header: 'x-api-key', value: SERVICE_KEY } });

  const base: GatewayConfigInput = {
    listen: { host: '127.0.0.1', port },
    resource: { url: mcpUrl, name: 'Test tickets', ...(options.policyDirectory ? {} : { challengeScopes: ['tickets:read'] }) },
    authorizationServers: [],
    authorizationServer: {
      identityProvider: {
        issuer: idp.issuer,
        clientId: IDP_CLIENT_ID,
        clientSecret: IDP_CLIENT_SECRET,
        scopes: ['openid', 'email', 'groups'],
        claims: ['groups', 'email'],
      },
      signingKeys: [{ privateKey: signingKeyPem }],
      scopes: FACADE_SCOPES,
      storage: { directory: dataDirectory },
      // Every test request comes from 127.0.0.1; the limit itself is tested separately.
      rateLimit: { requestsPerMinute: 60_000, burst: 10_000 },
      ...(options.cimdFixture ? { clientIdMetadataDocuments: { insecureTestingLoopback: { origins: [options.cimdFixture.origin], ca: TLS.ca } } } : {}),
    },
    upstream: { url: upstream.url, credential: { header: 'X-API-Key', value: SERVICE_KEY }, responseTimeoutMs: 5000 },
    shutdown: { drainTimeoutMs: 500 },
    logging: { level: 'debug' },
    ...(options.policyDirectory ? { policy: { directory: options.policyDirectory, pollIntervalSeconds: 0 } } : {}),
  };
  const config = validateConfig(options.config ? options.config(base) : base);

  let logText = '';
  const logger = createLogger(
    config.logging.level,
    new Writable({
      write(chunk, _encoding, callback) {
        logText += String(chunk);
        callback();
      },
    }),
  );
  async function boot(): Promise<Gateway> {
    const gateway = await createGateway(config, { logger, auditSink: { type: 'stream', write: () => undefined } });
    await gateway.start();
    await gateway.authorizationServer!.identityProviderKeys.whenReady();
    return gateway;
  }

  const stack: FacadeStack = {
    idp,
    upstream,
    gateway: await boot(),
    config,
    issuer,
    mcpUrl,
    dataDirectory,
    signingKeyPem,
    logOutput: () => logText,
    browser: (browserOptions) => new HeadlessBrowser(browserOptions),
    provider({ browser = new HeadlessBrowser(), clientMetadataUrl, keepRefreshTokens = true } = {}) {
      return new HeadlessOAuthProvider('facade test client', keepRefreshTokens, {
        authorize: (url, redirectUri) => browser.authorize(url, redirectUri),
        ...(clientMetadataUrl ? { clientMetadataUrl } : {}),
      });
    },
    async restart() {
      await stack.gateway.stop();
      stack.gateway = await boot();
    },
    async close() {
      await stack.gateway.stop();
      await Promise.all([upstream.close(), idp.close()]);
      rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
  return stack;
}

/**
 * The official MCP SDK client, logged in without a browser: an
 * `OAuthClientProvider` whose "redirect to the authorization page" follows the
 * page headlessly (the demo AS logs its demo user in and consents). Everything
 * else — discovery from the 401, PRM, AS metadata, dynamic registration, PKCE,
 * the `resource` parameter, the token request, step-up on 403 — is the SDK's
 * own code, exactly as a real MCP host runs it.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { completeAuthorizationHeadless } from './authorization-server.js';

/** Never dereferenced: the headless flow stops at the redirect and reads the code from it. */
const REDIRECT_URL = 'http://127.0.0.1:8976/callback';

export interface HeadlessOAuthProviderOptions {
  /**
   * Runs the user's part of an authorization and returns the code. Default: the demo AS's
   * headless flow (no pages). With the gateway's authorization server facade, which shows a
   * consent page, use a HeadlessBrowser (`(url, redirect) => browser.authorize(url, redirect)`).
   */
  authorize?: (authorizationUrl: URL, redirectUri: string) => Promise<{ code?: string; error?: string }>;
  /** An https client ID metadata document URL: the SDK uses it as the client id when the AS supports CIMD. */
  clientMetadataUrl?: string;
}

export class HeadlessOAuthProvider implements OAuthClientProvider {
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #codeVerifier = '';
  /** Authorization URLs the SDK sent the "user" to, newest last (tests assert on scope/resource). */
  readonly authorizationUrls: URL[] = [];
  /** The code from the latest headless authorization, to hand to `transport.finishAuth`. */
  pendingCode: string | undefined;

  /**
   * @param keepRefreshTokens false drops refresh tokens, so that a step-up
   *   (403 insufficient_scope) goes through a new authorization with the
   *   challenged scope: SDK 1.x refreshes *without* the new scope when it holds a
   *   refresh token and then fails (typescript-sdk #2255).
   */
  constructor(
    private readonly clientName = 'mcp-auth-gateway demo client',
    private readonly keepRefreshTokens = true,
    private readonly options: HeadlessOAuthProviderOptions = {},
  ) {}

  get clientMetadataUrl(): string | undefined {
    return this.options.clientMetadataUrl;
  }

  get redirectUrl(): string {
    return REDIRECT_URL;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.clientName,
      redirect_uris: [REDIRECT_URL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.#client = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    if (this.keepRefreshTokens) {
      this.#tokens = tokens;
      return;
    }
    const { refresh_token: _dropped, ...withoutRefresh } = tokens;
    this.#tokens = withoutRefresh;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizationUrls.push(authorizationUrl);
    const authorize = this.options.authorize ?? completeAuthorizationHeadless;
    const result: { code?: string; error?: string } = await authorize(authorizationUrl, REDIRECT_URL);
    if (!result.code) throw new Error(`authorization ended without a code (${result.error ?? 'and without an error'})`);
    this.pendingCode = result.code;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#codeVerifier = codeVerifier;
  }

  codeVerifier(): string {
    return this.#codeVerifier;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'client') this.#client = undefined;
  }
}

export interface ConnectedClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  provider: HeadlessOAuthProvider;
}

/**
 * Connects the SDK client to `serverUrl` knowing nothing else: the first
 * attempt gets a 401, the SDK discovers and authorizes, and the second attempt
 * (after `finishAuth`) connects with the token.
 */
export async function connectWithOAuth(
  serverUrl: string,
  { provider = new HeadlessOAuthProvider(), clientName = 'mcp-auth-gateway demo client' } = {},
): Promise<ConnectedClient> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider });
    const client = new Client({ name: clientName, version: '1.0.0' });
    try {
      await client.connect(transport);
      return { client, transport, provider };
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || !provider.pendingCode) throw error;
      const code = provider.pendingCode;
      provider.pendingCode = undefined;
      await transport.finishAuth(code);
      await client.close().catch(() => undefined);
    }
  }
  throw new Error(`could not connect to ${serverUrl} after authorizing`);
}

/**
 * Runs an SDK call; when the gateway answers 403 insufficient_scope, the SDK
 * re-authorizes with the challenged scope by itself and throws
 * UnauthorizedError once the (headless) user has consented. This finishes that
 * authorization and runs the call once more.
 */
export async function callWithStepUp<T>({ transport, provider }: ConnectedClient, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || !provider.pendingCode) throw error;
    const code = provider.pendingCode;
    provider.pendingCode = undefined;
    await transport.finishAuth(code);
    return call();
  }
}

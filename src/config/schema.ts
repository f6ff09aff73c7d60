import { z } from 'zod';
import { authorizationServerSchema as facadeSchema, facadeIssuer } from './authorization-server-schema.js';
import { upstreamCredentialSchema, upstreamTlsSchema } from './credential-schema.js';
import { checkIdentityHeaders, identitySchema } from './identity-schema.js';
import { httpUrl, scopeToken, secret } from './schema-primitives.js';

/**
 * The gateway configuration schema: the single source of truth for the config
 * types, the validator and its messages, the JSON Schema for editors
 * (`schema/gateway-config.schema.json`) and the configuration reference
 * (`docs/configuration.md`). Unknown keys are rejected everywhere (`strictObject`),
 * so a typo fails at start-up instead of silently meaning "default".
 */

/** Signature algorithms accepted by default: asymmetric only (RFC 8725 §3.1). */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
] as const;
const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const SUPPORTED_ALGORITHMS = [...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS] as const;

export const listenSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('Address to bind. Use 0.0.0.0 in a container.'),
    port: z.int().min(0).max(65535).default(8080).describe('TCP port; 0 picks a free port.'),
    trustForwardedHeaders: z
      .boolean()
      .default(false)
      .describe(
        'Trust X-Forwarded-For from the client (only behind a proxy you run). When false the gateway replaces it with the socket address.',
      ),
  })
  .describe('Where the gateway listens.');

export const resourceSchema = z
  .strictObject({
    url: httpUrl('resource.url').describe(
      'Public canonical URL of the MCP endpoint, e.g. https://mcp.example.com/mcp. It is the PRM `resource`, the audience tokens must carry (RFC 8707) and, by its path, where MCP is served.',
    ),
    name: z.string().min(1).optional().describe('PRM `resource_name`: a human-readable name.'),
    documentation: httpUrl('resource.documentation').optional().describe('PRM `resource_documentation` URL.'),
    scopesSupported: z
      .array(scopeToken)
      .optional()
      .describe(
        'PRM `scopes_supported`: the minimal scopes for basic use. Never offline_access. Default: the policy\'s (settings.scopesSupported, else the challenge scopes).',
      ),
    challengeScopes: z
      .array(scopeToken)
      .optional()
      .describe(
        'Scopes named in the 401 challenge: what a client needs to initialize and list. Default: the policy\'s (settings.challengeScopes, else what its initialize and list rules require).',
      ),
  })
  .describe('The protected resource: this gateway\'s MCP endpoint as clients see it.');

/** A claim name, or a dotted path into nested claims (`realm_access.roles`). */
const claimPath = z
  .string()
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, { error: 'expected a claim name or a dotted path such as realm_access.roles' });

export const claimMappingSchema = z
  .strictObject({
    subject: z
      .array(claimPath)
      .min(1)
      .default(['sub'])
      .describe('Claims naming the subject (the user or service), first string found wins. Without one the client id is the subject.'),
    clientId: z
      .array(claimPath)
      .min(1)
      .default(['client_id', 'azp'])
      .describe('Claims naming the client (the agent), first string found wins. Okta: [cid]; Entra v1.0: [appid].'),
    scopes: z
      .array(claimPath)
      .min(1)
      .default(['scope', 'scp'])
      .describe('Claims holding the scopes (a space-separated string or an array); the first present is used.'),
    additionalScopes: z
      .array(claimPath)
      .default([])
      .describe('Claims whose values are added to the scopes, e.g. [roles] (Entra app roles), [permissions] (Auth0 RBAC), [realm_access.roles] (Keycloak).'),
    scopePrefix: z
      .string()
      .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { error: 'expected scope characters (no spaces or quotes), e.g. api://00000000-1111-2222-3333-444444444444/' })
      .optional()
      .describe(
        'Prepended to every scope read from `scopes` (not additionalScopes), e.g. api://<client-id>/ for Entra ID, whose tokens carry tickets.read where clients must request api://<client-id>/tickets.read: policies and step-up challenges then name the form clients request.',
      ),
  })
  .describe(
    'Where this issuer puts the subject, client id and scopes. A name is looked up as a top-level claim first (namespaced claims such as https://example.com/roles), then as a dotted path. Policy claim conditions still see the unmapped claims.',
  );

export const INTROSPECTION_CLIENT_AUTHENTICATION_METHODS = ['client_secret_basic', 'client_secret_post'] as const;

export const introspectionSchema = z
  .strictObject({
    endpoint: httpUrl('introspection.endpoint')
      .optional()
      .describe("RFC 7662 introspection endpoint. Discovered from `introspection_endpoint` in the issuer's RFC 8414 / OpenID metadata when absent."),
    clientId: z.string().min(1).describe("The gateway's client id at the authorization server, for authenticating to the introspection endpoint."),
    clientSecret: secret().describe('Its client secret, e.g. ${env:INTROSPECTION_CLIENT_SECRET}.'),
    clientAuthentication: z
      .enum(INTROSPECTION_CLIENT_AUTHENTICATION_METHODS)
      .default('client_secret_basic')
      .describe('How the gateway authenticates to the introspection endpoint (RFC 6749 §2.3.1).'),
    introspectJwts: z
      .boolean()
      .default(false)
      .describe(
        "Also introspect this issuer's JWT-shaped tokens instead of checking their signature: the issuer is then introspection-only and its JWKS is never fetched (for issuers that publish no keys, or to see revocation at once). Default: JWTs are verified locally, only opaque tokens are introspected.",
      ),
    timeoutMs: z.int().min(100).default(3000).describe('Timeout of each introspection (and discovery) request, in ms; past it the request gets 503.'),
    cacheMaxSeconds: z
      .int()
      .min(0)
      .default(60)
      .describe(
        'Longest an active introspection result is reused, in seconds; never beyond the token `exp` nor tokenCache.maxTtlSeconds. A revoked token is accepted for at most this long; 0 asks on every request.',
      ),
    inactiveCacheSeconds: z
      .int()
      .min(0)
      .max(60)
      .default(5)
      .describe(
        'How long a refused token (`active: false`, wrong audience or issuer) is answered 401 without asking again, in seconds, so a client repeating a dead token cannot hammer the endpoint; 0 disables.',
      ),
    allowMissingAudience: z
      .boolean()
      .default(false)
      .describe(
        'Accept an active response without `aud` (some providers omit it). Off: such a token is refused (wrong_audience), because nothing shows it was issued for this resource.',
      ),
    failureCooldownMs: z
      .int()
      .min(0)
      .default(1000)
      .describe('After the endpoint failed (unreachable, timeout, 5xx, refused credentials), opaque tokens of this issuer get 503 at once for this long before it is asked again, in ms.'),
    maxConcurrentRequests: z
      .int()
      .min(1)
      .default(64)
      .describe(
        'Introspection requests in flight at once; more get 503 at once. Authentication precedes per-caller rate limits, so this bounds what a flood of random tokens can send to the issuer.',
      ),
  })
  .describe(
    'RFC 7662 token introspection: opaque tokens (and, with introspectJwts, all tokens) of this issuer are checked by asking it. Fails closed: an unreachable endpoint means 503, never acceptance.',
  );

export const authorizationServerSchema = z
  .strictObject({
    issuer: httpUrl('issuer').describe('Issuer identifier; the token `iss` must equal it exactly.'),
    jwksUri: httpUrl('jwksUri')
      .optional()
      .describe("JWKS URL. Discovered from the issuer's RFC 8414 / OpenID metadata when absent."),
    audiences: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        'Accepted `aud` values. Default: the resource URL. Compared canonically (scheme and host case-insensitive, trailing slash ignored).',
      ),
    algorithms: z
      .array(z.enum(SUPPORTED_ALGORITHMS))
      .min(1)
      .default([...ASYMMETRIC_ALGORITHMS])
      .describe('Allowed JWS algorithms. HS* require sharedSecret; `none` is never accepted.'),
    sharedSecret: secret()
      .optional()
      .describe('HMAC key for HS256/384/512 tokens. Only for issuers that cannot sign asymmetrically.'),
    clockToleranceSeconds: z.int().min(0).max(300).default(30).describe('Leeway for exp/nbf/iat, in seconds.'),
    requireAccessTokenType: z
      .boolean()
      .default(false)
      .describe('Require the RFC 9068 JWT header `typ: at+jwt` (refuses ID tokens used as access tokens).'),
    jwksRefreshIntervalSeconds: z
      .int()
      .min(10)
      .default(600)
      .describe('Background JWKS refresh period. A failed refresh keeps the known keys.'),
    jwksCooldownSeconds: z
      .int()
      .min(0)
      .default(30)
      .describe('Minimum time between JWKS refetches triggered by an unknown `kid`.'),
    metadataTimeoutMs: z.int().min(100).default(5000).describe('Timeout for JWKS and metadata fetches, in ms.'),
    claimMapping: claimMappingSchema.prefault({}),
    introspection: introspectionSchema.optional(),
  })
  .describe('An authorization server whose access tokens the gateway accepts.');

/** A SHA-256 digest as `sha256:<base64url>` (43 characters) or `sha256:<hex>` (64). */
export const API_KEY_HASH = /^sha256:(?:[A-Za-z0-9_-]{43}|[0-9a-fA-F]{64})$/;

export const apiKeySchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'expected a name of letters, digits, . _ - (at most 64), e.g. ci-bot' })
      .describe('Who holds the key; its client id in policy, audit and identity propagation.'),
    hash: z
      .string()
      .regex(API_KEY_HASH, { error: 'expected sha256:<base64url or hex digest>; `mcp-auth-gateway apikey generate --name <name>` prints one' })
      .describe('SHA-256 of the key: `sha256:` then base64url or hex. The key itself is never configured.'),
    scopes: z.array(scopeToken).default([]).describe("Scopes the key grants, decided by the policy as a token's are."),
    subject: z.string().min(1).optional().describe('Subject of its calls (a service account name, say). Default: api-key:<name>.'),
  })
  .describe('A static API key, presented as `Authorization: Bearer <key>`; see docs/tokens.md.');

export const upstreamSchema = z
  .strictObject({
    url: httpUrl('upstream.url').describe('URL of the upstream MCP endpoint, e.g. http://127.0.0.1:3000/mcp.'),
    credential: upstreamCredentialSchema.optional(),
    tls: upstreamTlsSchema.optional(),
    connectTimeoutMs: z.int().min(1).default(5000).describe('TCP connect timeout, in ms (→ 504).'),
    responseTimeoutMs: z
      .int()
      .min(1)
      .default(60000)
      .describe('Time to wait for the upstream response headers, in ms (→ 504). Streams, once started, are not cut.'),
    maxConnections: z
      .int()
      .min(1)
      .optional()
      .describe(
        'Cap on connections to the upstream (keep-alive pool). Default: no cap. Each open SSE stream holds a connection, so a cap below the number of concurrent streams makes further requests wait.',
      ),
  })
  .describe('The MCP server behind the gateway.');

/** A POSIX environment variable name. */
const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name such as MCP_SHARED_SECRET' });

/** The plain HTTP upstream (`type: http`, the default): the keys above, unchanged. */
export const httpUpstreamSchema = z
  .strictObject({
    type: z.literal('http').default('http').describe('A Streamable HTTP MCP server (2025-11-25 sessions and 2026-07-28 stateless requests pass through).'),
    ...upstreamSchema.shape,
  })
  .describe(upstreamSchema.description ?? 'The MCP server behind the gateway.');

export const upstreamSessionsSchema = z
  .strictObject({
    max: z
      .int()
      .min(1)
      .default(32)
      .describe('Most concurrent client sessions (each has its own child process or upstream connection); one more gets 503.'),
    idleTimeoutSeconds: z
      .int()
      .min(0)
      .default(900)
      .describe('A session without requests or open streams for this long is ended and its child stopped; 0 keeps it until DELETE.'),
  })
  .describe('Client sessions of a stdio or legacy-sse upstream (2025-11-25; binding them to users is the top-level sessions section). Each session gets its own upstream process or connection (docs/decisions/0002-stdio-one-child-per-session.md).');

export const upstreamRestartSchema = z
  .strictObject({
    initialDelayMs: z.int().min(0).default(500).describe('Wait before the first restart after a crash, in ms; doubled after each failed attempt.'),
    maxDelayMs: z.int().min(1).default(30000).describe('Longest wait between restarts, in ms. An upstream that stayed up this long starts again from initialDelayMs.'),
    maxAttempts: z
      .int()
      .min(1)
      .default(10)
      .describe('Failed restarts in a row after which a session gives up (its client gets 404 and starts a new session). The shared upstream of stateless clients never gives up.'),
  })
  .describe('Restarting a crashed child (stdio) or a dropped connection (legacy-sse), with exponential backoff.');

const bridgeSchemaShape = {
  sessions: upstreamSessionsSchema.prefault({}),
  restart: upstreamRestartSchema.prefault({}),
  initializeTimeoutMs: z
    .int()
    .min(1)
    .default(30000)
    .describe('How long the gateway waits for the upstream to answer the initialize it sends itself (after a restart, and for stateless clients), in ms.'),
  maxMessageBytes: z
    .int()
    .min(1024)
    .default(16 * 1024 * 1024)
    .describe('Largest JSON-RPC message accepted from the upstream, in bytes; a larger one is a protocol violation that ends the connection.'),
};

export const stdioUpstreamSchema = z
  .strictObject({
    type: z.literal('stdio').describe('A local MCP server the gateway starts and talks to over stdin/stdout (docs/transports.md).'),
    command: z.string().min(1).describe('Program to run, e.g. node or /usr/local/bin/mcp-server; looked up in PATH unless it contains a slash (then relative to cwd). No shell is involved.'),
    args: z.array(z.string()).default([]).describe('Arguments, passed as they are (no shell expansion).'),
    cwd: z.string().min(1).optional().describe('Working directory of the child, relative to the config file. Default: the gateway\'s.'),
    env: z
      .record(envName, z.string())
      .default({})
      .describe('Environment variables for the child. The child gets only these, the inheritEnv ones and sharedSecret: never the gateway\'s whole environment. Values may be ${env:…} or ${file:…}.'),
    inheritEnv: z
      .array(envName)
      .default(['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'])
      .describe('Names of gateway environment variables copied to the child when set.'),
    sharedSecret: z
      .strictObject({
        env: envName.default('MCP_GATEWAY_SHARED_SECRET').describe('Variable that carries it.'),
        value: secret().describe('The secret, e.g. ${env:MCP_SHARED_SECRET}.'),
      })
      .optional()
      .describe('A secret put into the child\'s environment, for servers that refuse to start (or to serve) without one.'),
    stopTimeoutMs: z.int().min(0).default(5000).describe('On shutdown or session end: stdin is closed and SIGTERM sent; SIGKILL follows after this long, in ms.'),
    ...bridgeSchemaShape,
  })
  .superRefine((upstream, ctx) => {
    if (upstream.sharedSecret && upstream.sharedSecret.env in upstream.env) {
      ctx.addIssue({ code: 'custom', path: ['env', upstream.sharedSecret.env], message: 'also set by sharedSecret.env; set it in one place' });
    }
  })
  .describe('An MCP server that speaks stdio only, started by the gateway.');

export const legacySseUpstreamSchema = z
  .strictObject({
    type: z.literal('legacy-sse').describe('An MCP server with the 2024-11-05 HTTP+SSE transport (GET /sse, POST /messages).'),
    url: httpUrl('upstream.url').describe('Its SSE endpoint, e.g. http://127.0.0.1:3000/sse. The POST endpoint comes from its `endpoint` event and must be on the same origin.'),
    credential: upstreamCredentialSchema
      .optional()
      .describe("The gateway's own credential, on the GET and every POST: static or client_credentials (token_exchange needs an HTTP upstream)."),
    connectTimeoutMs: z.int().min(1).default(5000).describe('Time to open the SSE stream and receive its endpoint event, in ms (→ 504).'),
    responseTimeoutMs: z.int().min(1).default(60000).describe('Time to wait for the answer to each POSTed message (202), in ms.'),
    ...bridgeSchemaShape,
  })
  .describe('An MCP server that speaks the deprecated HTTP+SSE transport only.');

export const policySchema = z
  .strictObject({
    directory: z
      .string()
      .min(1)
      .describe('Directory of policy files (*.yaml), merged in file-name order. Relative to the config file.'),
    watch: z
      .boolean()
      .default(true)
      .describe('Reload when a file changes (also picks up the Kubernetes ConfigMap symlink swap). SIGHUP always reloads.'),
    pollIntervalSeconds: z
      .int()
      .min(0)
      .default(30)
      .describe('Also re-read the directory this often, for filesystems without change events; 0 disables.'),
  })
  .describe(
    'Per-tool, prompt, resource and method authorization (docs/policy.md). Absent: every valid token may call everything.',
  );

export const auditSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Write an audit record for every decision (docs/audit.md).'),
    sink: z
      .enum(['stdout', 'file'])
      .default('stdout')
      .describe('Where records go: stdout (the operational log goes to stderr) or a file (JSON lines).'),
    file: z.string().min(1).optional().describe('Path of the audit file when sink is file; relative to the config file.'),
    write: z
      .enum(['async', 'sync'])
      .default('async')
      .describe(
        'async: records are buffered and written in batches (about 64 KiB, or within 1 s at low traffic), flushed on shutdown and fatal errors. sync: every record is written (write(2)) before the gateway moves on, so it also survives a crash or SIGKILL of the gateway (docs/audit.md, docs/performance.md).',
      ),
    includeArguments: z.boolean().default(true).describe('Record tool and prompt arguments (redacted and size-capped).'),
    redactKeys: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Argument keys to redact, in addition to the defaults (password, secret, token, api_key, authorization, cookie, client_secret, private_key, credential, session…). Case-insensitive, any depth, substring match.',
      ),
    redactPaths: z
      .array(z.string().min(1))
      .default([])
      .describe('Argument paths to redact whatever their key: `config.dsn`, `servers[0].url`, `$.a.*.b`.'),
    maxArgumentBytes: z.int().min(64).default(4096).describe('Arguments larger than this (after redaction) are replaced by their size.'),
  })
  .superRefine((audit, ctx) => {
    if (audit.sink === 'file' && !audit.file) ctx.addIssue({ code: 'custom', path: ['file'], message: 'required when sink is file' });
  })
  .describe('The audit trail: who called what, when, what was decided and why, and what happened.');

export const metricsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve Prometheus metrics.'),
    path: z.string().startsWith('/').default('/metrics').describe('Path of the metrics endpoint.'),
    port: z
      .int()
      .min(0)
      .max(65535)
      .optional()
      .describe('Serve metrics (and /healthz, /readyz) on this separate admin port instead of the main one.'),
    host: z.string().min(1).default('127.0.0.1').describe('Address of the admin port.'),
  })
  .describe('Prometheus metrics (docs/observability.md lists them).');

export const tracingSchema = z
  .strictObject({
    otlpEndpoint: httpUrl('tracing.otlpEndpoint')
      .optional()
      .describe(
        'OTLP/HTTP (JSON) traces endpoint, e.g. http://otel-collector:4318/v1/traces. When set, the gateway exports spans (request, authentication, policy, upstream) and sends its own traceparent upstream; otherwise traceparent passes through unchanged.',
      ),
    serviceName: z.string().min(1).default('mcp-auth-gateway').describe('service.name of exported spans.'),
    sampleRatio: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe('Share of new traces sampled; an incoming traceparent\'s sampled flag is followed.'),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .describe('Headers for the OTLP endpoint (e.g. an API key: use ${env:…}).'),
  })
  .describe('OpenTelemetry tracing.');

export const limitsSchema = z
  .strictObject({
    maxBodyBytes: z
      .int()
      .min(1024)
      .default(4 * 1024 * 1024)
      .describe('Largest accepted POST body, in bytes (→ 413).'),
    maxBatchLength: z.int().min(1).default(64).describe('Most messages in one JSON-RPC batch (→ 400).'),
    maxJsonDepth: z.int().min(4).default(64).describe('Deepest JSON nesting accepted in a POST body (→ 400).'),
    maxHeaderBytes: z
      .int()
      .min(1024)
      .default(16 * 1024)
      .describe('Largest request header section, in bytes (→ 431).'),
    headersTimeoutMs: z
      .int()
      .min(100)
      .default(20_000)
      .describe('A client must send its request headers within this time, in ms (slow-client protection).'),
    requestTimeoutMs: z
      .int()
      .min(100)
      .default(60_000)
      .describe('A client must send its whole request within this time, in ms (slow-client protection).'),
    rateLimit: z
      .strictObject({
        enabled: z.boolean().default(true),
        requestsPerSecond: z.number().positive().default(50).describe('Sustained requests per second per principal.'),
        burst: z.int().min(1).default(200).describe('Requests a principal may send at once after being idle.'),
        maxPrincipals: z.int().min(1).default(100_000).describe('Principals tracked at once (bounded memory).'),
      })
      .prefault({})
      .describe('Per-principal token bucket (issuer + subject + client); over it → 429 with Retry-After.'),
    maxStreamsPerPrincipal: z
      .int()
      .min(1)
      .default(16)
      .describe('Long-lived streams (GET listen streams, subscriptions/listen) open at once per principal (→ 429).'),
    sseKeepAliveSeconds: z
      .int()
      .min(0)
      .default(25)
      .describe('On a quiet SSE stream, send a keep-alive comment this often, in seconds (0: never).'),
    sseIdleTimeoutSeconds: z
      .int()
      .min(0)
      .default(3600)
      .describe('End an SSE stream the upstream has sent nothing on for this long, in seconds (0: never).'),
  })
  .describe('Request and abuse limits.');

export const securitySchema = z
  .strictObject({
    allowedOrigins: z
      .array(z.union([z.literal('*'), httpUrl('security.allowedOrigins[]')]))
      .optional()
      .describe(
        'Browser origins allowed to call the MCP endpoint (Origin present and not listed → 403, before anything else). Default: the origin of resource.url. `*` allows any.',
      ),
    allowedHosts: z
      .array(z.string().min(1))
      .optional()
      .describe('When set, the Host header must be one of these (DNS rebinding protection), e.g. mcp.example.com, 127.0.0.1:8080.'),
  })
  .describe('Browser and network safety.');

export const sessionsSchema = z
  .strictObject({
    bind: z
      .boolean()
      .default(true)
      .describe('Bind MCP session ids to the principal that created them: another principal gets 404, as for an unknown session.'),
    bindingSecrets: z
      .array(secret())
      .default([])
      .describe(
        'HMAC keys for session binding; the first signs, all verify (rotation). Give every replica the same keys. Empty: a random per-process key (sessions then do not survive a restart or move between replicas).',
      ),
  })
  .describe('MCP session binding (2025-11-25 sessions).');

export const tokenCacheSchema = z
  .strictObject({
    maxEntries: z.int().min(0).default(10000).describe('Verified tokens kept (0 disables the cache).'),
    maxTtlSeconds: z
      .int()
      .min(1)
      .default(300)
      .describe('Longest a verified token is remembered; never beyond its `exp`.'),
  })
  .describe('Cache of verified tokens, keyed by a SHA-256 hash of the token.');

export const shutdownSchema = z
  .strictObject({
    lameDuckMs: z
      .int()
      .min(0)
      .default(0)
      .describe(
        'On SIGTERM/SIGINT, how long the gateway keeps serving while /readyz answers 503, before it stops accepting connections, in ms. Lets Kubernetes take the pod out of Service endpoints first (about 5000 there); 0 outside a load balancer.',
      ),
    drainTimeoutMs: z
      .int()
      .min(0)
      .default(10000)
      .describe(
        'After the lame-duck period, how long in-flight requests and streams may finish before they are closed, in ms. lameDuckMs + drainTimeoutMs must fit in Kubernetes\' terminationGracePeriodSeconds.',
      ),
  })
  .describe('Graceful shutdown.');

export const loggingSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .describe('Operational log (JSON lines on stderr; the audit trail has its own stream).');

export const gatewayConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Editor hint; ignored.'),
    listen: listenSchema.prefault({}),
    resource: resourceSchema,
    authorizationServers: z
      .array(authorizationServerSchema)
      .default([])
      .describe('Authorization servers whose access tokens are accepted. At least one, unless authorizationServer (the facade) is set.'),
    authorizationServer: facadeSchema.optional(),
    apiKeys: z
      .array(apiKeySchema)
      .default([])
      .describe('Static API keys accepted besides tokens (hashed; compared in constant time). Default: none.'),
    upstream: z.discriminatedUnion('type', [httpUpstreamSchema, stdioUpstreamSchema, legacySseUpstreamSchema], {
      // A missing section keeps zod's own "required" message.
      error: (issue) => (issue.input === undefined ? undefined : 'expected upstream.type http (the default), stdio or legacy-sse'),
    }),
    policy: policySchema.optional(),
    audit: auditSchema.prefault({}),
    metrics: metricsSchema.prefault({}),
    tracing: tracingSchema.prefault({}),
    limits: limitsSchema.prefault({}),
    security: securitySchema.prefault({}),
    sessions: sessionsSchema.prefault({}),
    tokenCache: tokenCacheSchema.prefault({}),
    shutdown: shutdownSchema.prefault({}),
    logging: loggingSchema.prefault({}),
    identity: identitySchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    if (config.authorizationServers.length === 0 && !config.authorizationServer) {
      ctx.addIssue({ code: 'custom', path: ['authorizationServers'], message: 'expected at least one authorization server (or the authorizationServer facade)' });
    }
    config.authorizationServers.forEach((server, index) => {
      const wantsHmac = server.algorithms.some((alg) => alg.startsWith('HS'));
      if (wantsHmac && !server.sharedSecret) {
        ctx.addIssue({
          code: 'custom',
          path: ['authorizationServers', index, 'algorithms'],
          message: 'HS256/HS384/HS512 need authorizationServers[].sharedSecret; without it only asymmetric algorithms are allowed',
        });
      }
      if (server.sharedSecret && !wantsHmac) {
        ctx.addIssue({
          code: 'custom',
          path: ['authorizationServers', index, 'sharedSecret'],
          message: 'sharedSecret is set but algorithms lists no HS256/HS384/HS512',
        });
      }
      if (server.introspection?.introspectJwts && (server.jwksUri || server.sharedSecret)) {
        ctx.addIssue({
          code: 'custom',
          path: ['authorizationServers', index, server.jwksUri ? 'jwksUri' : 'sharedSecret'],
          message: 'not used when introspection.introspectJwts is true (every token of this issuer is introspected); remove it',
        });
      }
    });
    const issuers = config.authorizationServers.map((server) => server.issuer);
    const facade = facadeIssuer(config);
    if (facade && issuers.includes(facade)) {
      ctx.addIssue({ code: 'custom', path: ['authorizationServer', 'issuer'], message: 'the facade issuer is also listed in authorizationServers; its tokens are accepted without that entry' });
    }
    issuers.forEach((issuer, index) => {
      if (issuers.indexOf(issuer) !== index) {
        ctx.addIssue({ code: 'custom', path: ['authorizationServers', index, 'issuer'], message: 'duplicate issuer' });
      }
    });
    const keyNames = config.apiKeys.map((key) => key.name);
    // Compared as bytes, so the base64url and hex spellings of one hash are the same key.
    const keyDigests = config.apiKeys.map((key) => apiKeyDigest(key.hash).toString('hex'));
    config.apiKeys.forEach((key, index) => {
      if (keyNames.indexOf(key.name) !== index) ctx.addIssue({ code: 'custom', path: ['apiKeys', index, 'name'], message: 'duplicate API key name' });
      if (keyDigests.indexOf(keyDigests[index]!) !== index) {
        ctx.addIssue({ code: 'custom', path: ['apiKeys', index, 'hash'], message: 'the same key hash is configured twice' });
      }
    });
    if (config.apiKeys.length > 0 && config.upstream.type !== 'stdio' && config.upstream.credential?.type === 'token_exchange') {
      ctx.addIssue({
        code: 'custom',
        path: ['apiKeys'],
        message: 'API keys cannot be combined with upstream.credential type token_exchange: an API-key caller has no token to exchange (and the key must never leave the gateway)',
      });
    }
    const scopes = [...(config.resource.scopesSupported ?? []), ...(config.resource.challengeScopes ?? [])];
    scopes.forEach((scope) => {
      if (scope === 'offline_access') {
        ctx.addIssue({
          code: 'custom',
          path: ['resource'],
          message: 'offline_access must not be advertised or challenged for (MCP authorization spec)',
        });
      }
    });
  })
  .superRefine((config, ctx) => {
    const { upstream } = config;
    if (upstream.type === 'http' && upstream.tls && !upstream.url.startsWith('https:')) {
      ctx.addIssue({ code: 'custom', path: ['upstream', 'tls'], message: 'TLS settings need an https upstream.url' });
    }
    checkBridgedUpstream(config, ctx);
    const credential = upstream.type === 'stdio' ? undefined : upstream.credential;
    const credentialHeader = !credential ? undefined : 'header' in credential ? credential.header.toLowerCase() : 'authorization';
    checkIdentityHeaders(config.identity, credentialHeader, ctx);
  });

/** The SHA-256 digest of an `apiKeys[].hash` (`sha256:` then base64url, 43 characters, or hex, 64). */
export function apiKeyDigest(hash: string): Buffer {
  const value = hash.slice('sha256:'.length);
  return Buffer.from(value, value.length === 64 ? 'hex' : 'base64url');
}

/**
 * stdio and legacy-sse upstreams are not called once per client request: a child or an SSE
 * connection serves a whole session (and one serves every stateless client). What is
 * computed per request and per user — identity headers, the identity JWT, a token-exchange
 * token — has nowhere to go, so asking for it is an error rather than silently not done.
 */
function checkBridgedUpstream(config: { upstream: { type: string; credential?: { type: string } | undefined }; identity: { headers: Record<string, string>; jwt?: unknown } }, ctx: z.core.$RefinementCtx): void {
  const { upstream, identity } = config;
  if (upstream.type === 'http') return;
  if (Object.keys(identity.headers).length > 0 || identity.jwt) {
    ctx.addIssue({ code: 'custom', path: ['identity'], message: `identity propagation needs an HTTP upstream (upstream.type ${upstream.type} is not called once per request)` });
  }
  if (upstream.credential?.type === 'token_exchange') {
    ctx.addIssue({ code: 'custom', path: ['upstream', 'credential', 'type'], message: 'token_exchange needs an HTTP upstream: a legacy SSE connection carries the requests of a whole session' });
  }
}

/** The configuration as written (before defaults). */
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
/** The validated configuration with every default applied. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type AuthorizationServerConfig = GatewayConfig['authorizationServers'][number];
export type IntrospectionConfig = NonNullable<AuthorizationServerConfig['introspection']>;
export type ApiKeyConfig = GatewayConfig['apiKeys'][number];
export type UpstreamConfig = GatewayConfig['upstream'];
export type HttpUpstreamConfig = Extract<UpstreamConfig, { type: 'http' }>;
export type HttpUpstreamConfigInput = z.input<typeof httpUpstreamSchema>;
export type StdioUpstreamConfig = Extract<UpstreamConfig, { type: 'stdio' }>;
export type LegacySseUpstreamConfig = Extract<UpstreamConfig, { type: 'legacy-sse' }>;
export type PolicyConfig = NonNullable<GatewayConfig['policy']>;
export type AuditConfig = GatewayConfig['audit'];
export type MetricsConfig = GatewayConfig['metrics'];
export type TracingConfig = GatewayConfig['tracing'];
export type UpstreamCredentialConfig = NonNullable<HttpUpstreamConfig['credential']>;
export type IdentityConfig = GatewayConfig['identity'];
export type AuthorizationServerFacadeConfig = NonNullable<GatewayConfig['authorizationServer']>;

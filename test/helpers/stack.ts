/**
 * The whole system on 127.0.0.1 with real parts: oidc-provider as the
 * authorization server, an SDK MCP server upstream, and the gateway between.
 */
import { Writable } from 'node:stream';
import type { AuditRecord } from '../../src/audit/index.js';
import { validateConfig, type GatewayConfig, type GatewayConfigInput } from '../../src/config/index.js';
import { startDemoAuthorizationServer, type DemoAuthorizationServer, type DemoAuthorizationServerOptions } from '../../src/demo/authorization-server.js';
import { startDemoUpstream, type DemoUpstream, type DemoUpstreamOptions } from '../../src/demo/upstream-server.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log/index.js';
import type { ListeningServer } from '../../src/http/index.js';
import { findFreePort } from './ports.js';

export const SERVICE_KEY = 'svc-key-for-tests-0123456789';
export const DEFAULT_SCOPES = ['tickets:read', 'tickets:write', 'admin'];

/** Where the parts listen, known before any of them starts (so each can be configured with the others' URLs). */
export interface StackUrls {
  /** The gateway's MCP endpoint, also its resource URL: http://127.0.0.1:PORT/mcp */
  mcpUrl: string;
  /** The upstream's MCP endpoint (http): http://127.0.0.1:PORT/mcp */
  upstreamUrl: string;
  /** The gateway's origin, where its identity JWKS is served. */
  gatewayOrigin: string;
}

/** The stack's base config: it always lists the demo AS in `authorizationServers`. */
export type StackConfigInput = GatewayConfigInput & { authorizationServers: NonNullable<GatewayConfigInput['authorizationServers']> };

export interface StackOptions {
  scopes?: string[];
  as?: Partial<DemoAuthorizationServerOptions> | ((urls: StackUrls) => Partial<DemoAuthorizationServerOptions>);
  upstream?: DemoUpstreamOptions | ((urls: StackUrls & { as: DemoAuthorizationServer }) => DemoUpstreamOptions);
  /** A policy directory (default: none, every valid token may call everything). */
  policyDirectory?: string;
  /** Changes to the gateway config after the defaults are filled in. */
  config?: (config: StackConfigInput, parts: StackUrls & { as: DemoAuthorizationServer; upstream: DemoUpstream }) => GatewayConfigInput;
  /** The gateway's environment (what a stdio child may inherit); default process.env. */
  environment?: Record<string, string | undefined>;
}

export interface Stack {
  as: DemoAuthorizationServer;
  upstream: DemoUpstream;
  gateway: Gateway;
  listening: ListeningServer;
  config: GatewayConfig;
  /** The MCP endpoint clients use: http://127.0.0.1:PORT/mcp */
  mcpUrl: string;
  /** Everything the gateway's operational log wrote, for "no token in any output" checks. */
  logOutput: () => string;
  /** The audit records written so far (parsed JSON lines), and their raw text. */
  auditRecords: () => AuditRecord[];
  auditOutput: () => string;
  obtainToken(scope?: string, resource?: string): Promise<string>;
  close(): Promise<void>;
}

/** Ports come from findFreePort (this worker's own block); whatever started is closed if a later part fails. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const scopes = options.scopes ?? DEFAULT_SCOPES;
  const [port, upstreamPort] = await Promise.all([findFreePort(), findFreePort()]);
  const mcpUrl = `http://127.0.0.1:${port}/mcp`;
  const urls: StackUrls = { mcpUrl, upstreamUrl: `http://127.0.0.1:${upstreamPort}/mcp`, gatewayOrigin: `http://127.0.0.1:${port}` };
  const as = await startDemoAuthorizationServer({
    resources: [
      { resource: mcpUrl, scopes },
      { resource: 'http://127.0.0.1:1/other-service', scopes },
    ],
    ...(typeof options.as === 'function' ? options.as(urls) : options.as),
  });
  let upstream: DemoUpstream;
  try {
    upstream = await startDemoUpstream({
      port: upstreamPort,
      requiredCredential: { header: 'x-api-key', value: SERVICE_KEY },
      ...(typeof options.upstream === 'function' ? options.upstream({ ...urls, as }) : options.upstream),
    });
  } catch (error) {
    await as.close();
    throw error;
  }
  const baseConfig: StackConfigInput = {
    listen: { host: '127.0.0.1', port },
    resource: { url: mcpUrl, name: 'Test tickets', ...(options.policyDirectory ? {} : { challengeScopes: ['tickets:read'] }) },
    authorizationServers: [{ issuer: as.issuer, jwksCooldownSeconds: 1 }],
    upstream: { url: upstream.url, credential: { header: 'X-API-Key', value: SERVICE_KEY }, responseTimeoutMs: 5000 },
    shutdown: { drainTimeoutMs: 500 },
    logging: { level: 'debug' },
    ...(options.policyDirectory ? { policy: { directory: options.policyDirectory, pollIntervalSeconds: 0 } } : {}),
  };
  const config = validateConfig(options.config ? options.config(baseConfig, { ...urls, as, upstream }) : baseConfig);
  let logText = '';
  const logSink = new Writable({
    write(chunk, _encoding, callback) {
      logText += String(chunk);
      callback();
    },
  });
  let auditText = '';
  const gateway = await createGateway(config, {
    logger: createLogger(config.logging.level, logSink),
    auditSink: { type: 'stream', write: (line) => (auditText += line) },
    ...(options.environment ? { environment: options.environment } : {}),
  });
  let listening: ListeningServer;
  try {
    listening = await gateway.start();
  } catch (error) {
    await gateway.stop();
    await Promise.all([upstream.close(), as.close()]);
    throw error;
  }
  await Promise.all(gateway.verifier.issuers.map((keys) => keys.whenReady()));
  return {
    as,
    upstream,
    gateway,
    listening,
    config,
    mcpUrl,
    logOutput: () => logText,
    auditOutput: () => auditText,
    auditRecords: () => auditText.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditRecord),
    obtainToken: async (scope = 'tickets:read', resource = mcpUrl) => (await as.obtainUserToken({ resource, scope })).accessToken,
    async close() {
      await gateway.stop();
      await Promise.all([upstream.close(), as.close()]);
    },
  };
}

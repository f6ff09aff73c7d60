/**
 * `npm run demo`: the main job on embedded defaults. Starts on 127.0.0.1 a
 * demo authorization server (oidc-provider), a demo MCP server that accepts
 * only the gateway's service key, and the gateway in front of it.
 */
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../config/index.js';
import { buildMetadataUrl } from '../discovery/index.js';
import { createGateway } from '../gateway.js';
import { createLogger } from '../log/index.js';
import { startDemoAuthorizationServer } from './authorization-server.js';
import { readDemoSettings } from './demo-settings.js';
import { startDemoUpstream } from './upstream-server.js';

const settings = readDemoSettings(process.env);
const as = await startDemoAuthorizationServer({
  port: settings.authorizationServerPort,
  resources: [{ resource: settings.mcpUrl, scopes: settings.scopes }],
  user: { sub: 'demo-user', claims: { groups: ['support'], tenant: 'acme' } },
});
const upstream = await startDemoUpstream({
  port: settings.upstreamPort,
  requiredCredential: { header: 'x-api-key', value: settings.serviceKey },
});
const config = validateConfig({
  listen: { host: '127.0.0.1', port: settings.gatewayPort },
  resource: { url: settings.mcpUrl, name: 'Demo tickets' },
  authorizationServers: [{ issuer: as.issuer }],
  upstream: { url: upstream.url, credential: { header: 'X-API-Key', value: settings.serviceKey } },
  // The example policies of the repository: edit them while the demo runs, they reload.
  policy: { directory: fileURLToPath(new URL('../../policies', import.meta.url)) },
  logging: { level: process.env.DEMO_LOG_LEVEL ?? 'info' },
});
const gateway = await createGateway(config, { logger: createLogger(config.logging.level) });
await gateway.start();
await Promise.all(gateway.verifier.issuers.map((keys) => keys.whenReady()));

process.stdout.write(`
  mcp-auth-gateway demo is running (Ctrl-C to stop)

    MCP endpoint (the gateway)   ${settings.mcpUrl}
    Protected resource metadata  ${buildMetadataUrl(settings.mcpUrl)}
    Authorization server         ${as.issuer}   (demo user "demo-user" logs in without a browser)
    Upstream MCP server          ${upstream.url}   (accepts only the gateway's service key)
    Policy                       policies/   (edit a file: the gateway reloads it)

  Next:
    npm run demo:client                      a real MCP SDK client discovers, logs in and calls tools
    curl -i ${settings.mcpUrl}     the 401 and its WWW-Authenticate challenge
    curl -s ${buildMetadataUrl(settings.mcpUrl)}
    npx @modelcontextprotocol/inspector      then connect to ${settings.mcpUrl} (Streamable HTTP)

`);

const stop = async () => {
  await gateway.stop();
  await Promise.all([upstream.close(), as.close()]);
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

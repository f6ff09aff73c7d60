/**
 * `npm run demo:client`: the official MCP SDK client against the running demo,
 * knowing only the gateway's URL. It prints each step of discovery and login,
 * then the tools and a tool result. It never prints the token itself.
 */
import { decodeJwt } from 'jose';
import { readDemoSettings } from './demo-settings.js';
import { connectWithOAuth, HeadlessOAuthProvider } from './headless-oauth-client.js';

const mcpUrl = process.argv[2] ?? readDemoSettings(process.env).mcpUrl;
const say = (text: string) => process.stdout.write(`${text}\n`);

say(`Connecting to ${mcpUrl} (the only thing this client knows)…`);
const provider = new HeadlessOAuthProvider('mcp-auth-gateway demo client');
let connected;
try {
  connected = await connectWithOAuth(mcpUrl, { provider });
} catch (error) {
  say(`Could not connect: ${(error as Error).message}\nIs the demo running? Start it with: npm run demo`);
  process.exit(1);
}
const { client } = connected;

const authorizationUrl = provider.authorizationUrls.at(-1);
if (authorizationUrl) {
  const params = authorizationUrl.searchParams;
  say(`  1. POST ${mcpUrl} → 401, WWW-Authenticate points at the protected resource metadata`);
  say(`  2. discovered the authorization server ${authorizationUrl.origin} and registered as client ${params.get('client_id')}`);
  say(`  3. authorized with PKCE (${params.get('code_challenge_method')}), scope "${params.get('scope')}", resource ${params.get('resource')}`);
}
const tokens = provider.tokens();
if (tokens) {
  const claims = decodeJwt(tokens.access_token);
  say(`  4. got an access token for aud=${String(claims.aud)}, sub=${claims.sub}, scope="${String(claims.scope)}" (the token itself is not shown)`);
}

const { tools } = await client.listTools();
say(`\nTools through the gateway (${tools.length}):`);
for (const tool of tools) say(`  - ${tool.name}: ${tool.description ?? ''}`);

const result = await client.callTool({ name: 'list_tickets', arguments: {} });
say('\nlist_tickets →');
for (const item of result.content as Array<{ type: string; text?: string }>) if (item.type === 'text') say(`  ${item.text}`);

await client.close();
say('\nDone. The upstream saw only the gateway\'s service key, never this token.');

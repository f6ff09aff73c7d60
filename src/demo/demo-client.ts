/**
 * `npm run demo:client`: the official MCP SDK client against the running demo,
 * knowing only the gateway's URL. It prints each step of discovery and login,
 * the tools its token may use, a tool result, and a step-up to a broader scope.
 * It never prints a token.
 */
import { decodeJwt } from 'jose';
import { readDemoSettings } from './demo-settings.js';
import { callWithStepUp, connectWithOAuth, HeadlessOAuthProvider } from './headless-oauth-client.js';

const mcpUrl = process.argv[2] ?? readDemoSettings(process.env).mcpUrl;
const say = (text: string) => process.stdout.write(`${text}\n`);
const describeToken = (provider: HeadlessOAuthProvider) => {
  const tokens = provider.tokens();
  if (!tokens) return 'no token';
  const claims = decodeJwt(tokens.access_token);
  return `aud=${String(claims.aud)}, sub=${claims.sub}, scope="${String(claims.scope)}"`;
};

say(`Connecting to ${mcpUrl} (the only thing this client knows)…`);
// Without refresh tokens, a step-up re-authorizes with the challenged scope (typescript-sdk #2255).
const provider = new HeadlessOAuthProvider('mcp-auth-gateway demo client', false);
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
say(`  4. got an access token: ${describeToken(provider)} (the token itself is not shown)`);

const { tools } = await client.listTools();
say(`\nTools this token may use (the gateway filtered the list by policy): ${tools.map((tool) => tool.name).join(', ')}`);

const result = await client.callTool({ name: 'list_tickets', arguments: {} });
say('\nlist_tickets →');
for (const item of result.content as Array<{ type: string; text?: string }>) if (item.type === 'text') say(`  ${item.text}`);

say('\ncreate_ticket needs tickets:write: the gateway answers 403 insufficient_scope, the SDK steps up…');
const created = await callWithStepUp(connected, () => client.callTool({ name: 'create_ticket', arguments: { title: 'Created by the demo client' } }));
say(`  new token: ${describeToken(provider)}`);
for (const item of created.content as Array<{ type: string; text?: string }>) if (item.type === 'text') say(`  create_ticket → ${item.text}`);

say('\nadmin_delete_ticket needs the admin scope AND membership of mcp-admins: the SDK steps up to admin,');
say('but the demo user is only in the "support" group, so the policy still refuses:');
try {
  await callWithStepUp(connected, () => client.callTool({ name: 'admin_delete_ticket', arguments: { id: 'T-1' } }));
} catch (error) {
  say(`  refused: ${(error as Error).message}`);
}

await client.close();
say('\nDone. The upstream saw only the gateway\'s service key, never these tokens.');

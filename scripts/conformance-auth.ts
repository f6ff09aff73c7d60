/**
 * Runs the MCP conformance suite's `authorization` mode against the authorization server facade:
 * the gateway (facade on, oidc-provider as an identity provider without registration, a demo
 * upstream) starts on 127.0.0.1, a client is registered for the suite's callback, and the suite's
 * "open this URL in your browser" step is done by the headless browser (consent approved, demo
 * user logged in), which then delivers the redirect to the suite's callback server.
 *
 *   npm run conformance:auth                       # default suite version below
 *   npm run conformance:auth -- 0.2.0-alpha.12     # another version
 *
 * The suite needs Node 22: it runs through `npx -p node@22`, so this needs the npm registry. It is
 * not a dependency and not part of `npm test`. Exit code: the suite's.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadlessBrowser } from '../src/demo/headless-browser.js';
import { startFacadeStack } from '../test/helpers/facade-stack.js';
import { findFreePort } from '../test/helpers/ports.js';

const version = process.argv[2] ?? '0.2.0-alpha.12';
const stack = await startFacadeStack();
const callbackPort = await findFreePort();
const callback = `http://127.0.0.1:${callbackPort}/callback`;
const registration = await fetch(`${stack.issuer}/oauth/register`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ client_name: 'MCP conformance suite', redirect_uris: [callback], application_type: 'native' }),
});
const { client_id: clientId } = (await registration.json()) as { client_id: string };
const outputDir = mkdtempSync(join(tmpdir(), 'conformance-auth-'));

const args = ['-y', '-p', 'node@22', '-p', `@modelcontextprotocol/conformance@${version}`, 'conformance', 'authorization',
  '--url', stack.issuer, '--client-id', clientId, '--resource', stack.mcpUrl, '--port', String(callbackPort), '--output-dir', outputDir];
console.log(`$ npx ${args.join(' ')}`);
const suite = spawn('npx', args, { stdio: ['ignore', 'pipe', 'inherit'] });

/** Does what the suite asks a human to do in a browser, then hands the redirect to the suite's callback server. */
async function authorizeHeadlessly(url: string): Promise<void> {
  const result = await new HeadlessBrowser().authorize(url, callback);
  const redirect = new URL(callback);
  for (const [name, value] of Object.entries(result)) redirect.searchParams.set(name, value);
  for (let attempt = 0; attempt < 50; attempt += 1) {
    try {
      await (await fetch(redirect)).text();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error('the suite\'s callback server never answered');
}

let pending = '';
suite.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  pending += chunk.toString();
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    if (line.startsWith(`${stack.issuer}/oauth/authorize?`)) {
      authorizeHeadlessly(line.trim()).catch((error: unknown) => console.error(`headless authorization failed: ${(error as Error).message}`));
    }
  }
});

const code = await new Promise<number>((resolve) => suite.on('close', (status) => resolve(status ?? 1)));
console.log(`\nresults: ${outputDir}`);
await stack.close();
process.exit(code);

/**
 * Nothing about a client is lost across a restart: registered clients and refresh token families
 * (with their reuse history) live in the data directory; a new gateway on the same directory
 * honours them, and access tokens signed before the restart still verify (keys come from config).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithOAuth } from '../../src/demo/headless-oauth-client.js';
import { startFacadeStack, type FacadeStack } from '../helpers/facade-stack.js';

let stack: FacadeStack;
beforeAll(async () => {
  stack = await startFacadeStack();
});
afterAll(async () => stack?.close());

async function refresh(clientId: string, refreshToken: string) {
  const response = await fetch(`${stack.issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, resource: stack.mcpUrl }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

const registrations = () => readFileSync(join(stack.dataDirectory, 'clients.jsonl'), 'utf8').trim().split('\n').length;

describe('a gateway restart with the same data directory', () => {
  it('keeps registered clients, refresh token families and their reuse history', async () => {
    const provider = stack.provider();
    const connected = await connectWithOAuth(stack.mcpUrl, { provider });
    await connected.client.close();
    const clientId = provider.clientInformation()!.client_id;
    const { refresh_token: first, access_token: accessToken } = provider.tokens()!;
    const second = await refresh(clientId, first!);
    expect(second.status).toBe(200);
    const third = await refresh(clientId, second.body.refresh_token!);
    expect(third.status).toBe(200);
    expect(registrations()).toBe(1);

    await stack.restart();

    // The access token from before still works (same signing key, from the config).
    const again = await connectWithOAuth(stack.mcpUrl, { provider });
    expect((await again.client.callTool({ name: 'echo', arguments: { text: 'after restart' } })).content).toEqual([{ type: 'text', text: 'after restart' }]);
    await again.client.close();
    expect(provider.tokens()!.access_token).toBe(accessToken);

    // The current refresh token rotates; a rotated-away one is still recognised as reuse.
    const fourth = await refresh(clientId, third.body.refresh_token!);
    expect(fourth.status).toBe(200);
    expect((await refresh(clientId, second.body.refresh_token!)).body.error).toBe('invalid_grant');
    expect((await refresh(clientId, fourth.body.refresh_token!)).body.error).toBe('invalid_grant');

    // The registered client authorizes again without registering again.
    provider.invalidateCredentials('tokens');
    const reauthorized = await connectWithOAuth(stack.mcpUrl, { provider });
    await reauthorized.client.close();
    expect(provider.clientInformation()!.client_id).toBe(clientId);
    expect(provider.tokens()!.access_token).not.toBe(accessToken);
    expect(registrations()).toBe(1);
  });
});

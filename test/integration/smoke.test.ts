import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectWithOAuth } from '../../src/demo/headless-oauth-client.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.close());

it('smoke', async () => {
  const { client } = await connectWithOAuth(stack.mcpUrl);
  const tools = await client.listTools();
  expect(tools.tools.length).toBeGreaterThan(0);
  await client.close();
});

/**
 * Request bodies that two JSON parsers read differently, through a real
 * gateway. The gateway decides on its reading and forwards the bytes as they
 * came, so a body the upstream could read as another call must never pass.
 * The upstream here parses the way Go's encoding/json does (member names
 * matched case-insensitively, the last one wins) and records what it would run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, mcpPost } from '../helpers/mcp-requests.js';
import { copyPolicies } from '../helpers/policy-dir.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startHostileUpstream, type HostileUpstream } from './fixtures/hostile-upstream.js';
import { auditRecordsFor, expectNoSecretIn, expectNoSecretInOutputs, expectStillServes } from './support.js';

const policies = copyPolicies();
let stack: Stack;
let goLike: HostileUpstream;
let token: string;

beforeAll(async () => {
  goLike = await startHostileUpstream();
  stack = await startStack({
    policyDirectory: policies.directory,
    config: (config) => ({ ...config, upstream: { ...config.upstream, url: goLike.url } }),
  });
  token = await stack.obtainToken('tickets:read');
});
afterAll(async () => {
  await stack?.close();
  await goLike?.close();
  policies.remove();
});

/**
 * What an upstream using Go's encoding/json would take as method and tool
 * name from a raw body: every member whose name folds to the field's, last
 * wins; or, with `firstWins`, what a parser keeping the first duplicate takes.
 */
function readLikeGo(raw: string, { firstWins = false } = {}): { method?: string; name?: string } {
  const fold = firstWins ? (name: string) => name : (name: string) => name.toUpperCase().toLowerCase();
  /** The members of an object text whose values are strings or objects, in order, duplicates kept. */
  const members = (text: string) =>
    [...text.matchAll(/"((?:[^"\\]|\\.)*)"\s*:\s*("(?:[^"\\]|\\.)*"|\{(?:[^{}]|\{[^{}]*\})*\})/g)].map((match) => ({
      name: JSON.parse(`"${match[1]}"`) as string,
      text: match[2]!,
    }));
  const result: { method?: string; name?: string } = {};
  for (const member of members(raw)) {
    if (fold(member.name) === 'method' && member.text.startsWith('"') && !(firstWins && result.method)) result.method = JSON.parse(member.text) as string;
    if (fold(member.name) === 'params' && member.text.startsWith('{')) {
      for (const inner of members(member.text)) if (fold(inner.name) === 'name' && inner.text.startsWith('"') && !(firstWins && result.name)) result.name = JSON.parse(inner.text) as string;
    }
  }
  return result;
}

const CASES: Array<[string, string, { firstWins?: boolean }, { method?: string; name?: string }]> = [
  ['ping, then METHOD: tools/call', '{"jsonrpc":"2.0","id":1,"method":"ping","METHOD":"tools/call","params":{"name":"create_ticket","arguments":{}}}', {}, { method: 'tools/call', name: 'create_ticket' }],
  ['name, then Name', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","Name":"create_ticket","arguments":{}}}', {}, { method: 'tools/call', name: 'create_ticket' }],
  ['params, then paramſ (long s)', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"paramſ":{"name":"create_ticket"}}', {}, { method: 'tools/call', name: 'create_ticket' }],
  ['method repeated (a first-wins parser)', '{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"tools/list","params":{"name":"create_ticket"}}', { firstWins: true }, { method: 'tools/call', name: 'create_ticket' }],
  ['name repeated (a first-wins parser)', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_ticket","name":"echo","arguments":{}}}', { firstWins: true }, { method: 'tools/call', name: 'create_ticket' }],
];

describe('bodies another parser reads as another call', () => {
  it('the other readings really differ from the gateway’s (the cases are not strawmen)', () => {
    for (const [, raw, reader, theyRead] of CASES) {
      expect(readLikeGo(raw, reader)).toEqual(theyRead);
      const ours = JSON.parse(raw) as { method: string; params?: { name?: string } };
      expect({ method: ours.method, name: ours.params?.name }).not.toEqual(theyRead);
    }
  });

  it.each(CASES)('%s → 400, nothing forwarded, audited', async (_name, raw) => {
    const before = goLike.seen.length;
    const response = await mcpPost(stack.mcpUrl, raw, bearer(token));
    const body = (await response.json()) as { error: { code: number } };
    expect(response.status).toBe(400);
    expect(body.error.code).toBe(-32600);
    expect(goLike.seen.length).toBe(before);
    expect(auditRecordsFor(stack, response)).toEqual([expect.objectContaining({ event: 'request.rejected', outcome: expect.objectContaining({ status: 400, errorCode: 'invalid_request' }) })]);
    expectNoSecretInOutputs(stack, [token]);
    await expectStillServes(stack, token);
  });

  it('the same calls spelled once are decided as usual (echo allowed, create_ticket denied)', async () => {
    const call = (name: string) => ({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } });
    expect((await mcpPost(stack.mcpUrl, call('echo'), bearer(token))).status).toBe(200);
    const denied = await mcpPost(stack.mcpUrl, call('create_ticket'), bearer(token));
    expect(denied.status).toBe(403);
    await denied.text();
  });
});

describe('tokens as content of an allowed call', () => {
  it('a token inside the arguments is forwarded as content, never written to the audit trail or the log', async () => {
    const other = await stack.obtainToken('tickets:read');
    const args = {
      text: token,
      note: `use ${other} next time`,
      nested: { list: [`Bearer ${other}`, { deeper: token }] },
      [other]: 'a token as a member name',
    };
    const response = await mcpPost(stack.mcpUrl, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: args, _meta: { token } } }, bearer(token));
    expect(response.status).toBe(200);
    await response.text();
    const [record] = auditRecordsFor(stack, response);
    expect(record).toMatchObject({ event: 'mcp.message', what: { method: 'tools/call', target: { name: 'echo' } } });
    expect(JSON.stringify(record!.what.arguments)).toContain('[REDACTED:jwt]');
    expectNoSecretIn({ 'the gateway log': stack.logOutput(), 'the audit output': stack.auditOutput() }, [token, other]);
  });
});


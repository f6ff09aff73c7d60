import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.js';
import { describeUpstream } from '../../../src/transports/index.js';

const withUpstream = (upstream: unknown) =>
  validateConfig({ resource: { url: 'https://mcp.example.com/mcp' }, authorizationServers: [{ issuer: 'https://auth.example.com' }], upstream }).upstream;

describe('describeUpstream (validate output, start-up log)', () => {
  it('names each kind of upstream without arguments, environment values or secrets', () => {
    const stdio = describeUpstream(withUpstream({ type: 'stdio', command: 'node', args: ['server.js', '--token=arg-secret'], env: { API_KEY: 'env-secret' }, sharedSecret: { value: 'shared-secret' } }));
    expect(stdio).toBe('stdio: node (2 arguments)');
    expect(describeUpstream(withUpstream({ type: 'legacy-sse', url: 'http://127.0.0.1:3000/sse', credential: { header: 'X-API-Key', value: 'k-secret' } }))).toBe('legacy-sse: http://127.0.0.1:3000/sse');
    expect(describeUpstream(withUpstream({ url: 'http://127.0.0.1:3000/mcp' }))).toBe('http://127.0.0.1:3000/mcp');
  });
});

import { describe, expect, it } from 'vitest';
import { canonicalAudience, createAudienceMatcher } from '../../../src/auth/index.js';

describe('audience matching (RFC 8707, MCP: canonical comparison)', () => {
  const accepts = createAudienceMatcher(['https://mcp.example.com/mcp']);

  it.each([
    ['the exact URL', 'https://mcp.example.com/mcp', true],
    ['uppercase scheme and host', 'HTTPS://MCP.EXAMPLE.COM/mcp', true],
    ['a trailing slash', 'https://mcp.example.com/mcp/', true],
    ['the default port spelled out', 'https://mcp.example.com:443/mcp', true],
    ['another path', 'https://mcp.example.com/other', false],
    ['a path with different case', 'https://mcp.example.com/MCP', false],
    ['another host', 'https://evil.example.com/mcp', false],
    ['http instead of https', 'http://mcp.example.com/mcp', false],
    ['a prefix of the resource', 'https://mcp.example.com', false],
    ['an array naming it', ['https://other.example', 'https://mcp.example.com/mcp'], true],
    ['an array without it', ['https://other.example'], false],
    ['nothing', undefined, false],
    ['a number', 42, false],
  ])('%s → %s', (_name, aud, expected) => {
    expect(accepts(aud)).toBe(expected);
  });

  it('compares non-URL identifiers exactly', () => {
    const forAuth0 = createAudienceMatcher(['my-api', 'api://mcp-gateway']);
    expect(forAuth0('my-api')).toBe(true);
    expect(forAuth0('My-Api')).toBe(false);
    expect(forAuth0('api://mcp-gateway')).toBe(true);
  });

  it('keeps the root path and the query', () => {
    expect(canonicalAudience('https://X.example/')).toBe('https://x.example');
    expect(canonicalAudience('https://x.example/a?b=1')).toBe('https://x.example/a?b=1');
  });
});

import { describe, expect, it } from 'vitest';
import { buildBearerChallenge, quoteHeaderValue } from '../../../src/discovery/index.js';

describe('buildBearerChallenge', () => {
  it('starts with Bearer and quotes every parameter', () => {
    expect(
      buildBearerChallenge({ resourceMetadataUrl: 'https://x/.well-known/oauth-protected-resource/mcp', scopes: ['a:read', 'b'], error: 'insufficient_scope', errorDescription: 'more scope needed' }),
    ).toBe('Bearer resource_metadata="https://x/.well-known/oauth-protected-resource/mcp", scope="a:read b", error="insufficient_scope", error_description="more scope needed"');
  });

  it('omits an empty scope', () => {
    expect(buildBearerChallenge({ resourceMetadataUrl: 'https://x/prm', scopes: [] })).toBe('Bearer resource_metadata="https://x/prm"');
  });

  it.each([
    ['a double quote', 'say "hi"', '"say \\"hi\\""'],
    ['a backslash', 'a\\b', '"a\\\\b"'],
    ['CR/LF (header injection)', 'x\r\nSet-Cookie: a=b', '"xSet-Cookie: a=b"'],
    ['characters node cannot send in a header', 'tickеts:wr\u200bite ｘ', '"tickts:write "'],
  ])('escapes %s', (_name, value, expected) => {
    expect(quoteHeaderValue(value)).toBe(expected);
  });
});

import { describe, expect, it } from 'vitest';
import { extractBearerToken, hasQueryToken } from '../../../src/auth/index.js';
import { GatewayError } from '../../../src/errors/index.js';

function failure(header: string | undefined): { code: string; reason?: string } {
  try {
    extractBearerToken(header);
  } catch (error) {
    const gatewayError = error as GatewayError;
    return { code: gatewayError.code, ...(gatewayError.tokenRejection ? { reason: gatewayError.tokenRejection } : {}) };
  }
  throw new Error('expected a failure');
}

describe('extractBearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc', 'abc'],
    ['BEARER   abc==', 'abc=='],
    ['  Bearer a-b_c~d+e/f  ', 'a-b_c~d+e/f'],
  ])('accepts %j', (header, token) => {
    expect(extractBearerToken(header)).toBe(token);
  });

  it.each([
    [undefined, { code: 'token_missing' }],
    ['', { code: 'token_missing' }],
    ['Basic dXNlcg==', { code: 'token_missing' }],
    ['Bearer', { code: 'token_invalid', reason: 'malformed' }],
    ['Bearer a b', { code: 'token_invalid', reason: 'malformed' }],
    ['Bearer a,b', { code: 'token_invalid', reason: 'malformed' }],
    ['Bearer =abc', { code: 'token_invalid', reason: 'malformed' }],
    [`Bearer ${'a'.repeat(20_000)}`, { code: 'token_invalid', reason: 'malformed' }],
  ])('refuses %j', (header, expected) => {
    expect(failure(header)).toEqual(expected);
  });
});

describe('hasQueryToken', () => {
  it('finds access_token anywhere in the query', () => {
    expect(hasQueryToken('?a=1&access_token=x')).toBe(true);
    expect(hasQueryToken('?access_token=')).toBe(true);
    expect(hasQueryToken('?not_access_token_really=1')).toBe(false);
    expect(hasQueryToken('')).toBe(false);
  });

  it('finds it percent-encoded too (the upstream decodes the name; the query goes there as it came)', () => {
    expect(hasQueryToken('?access%5Ftoken=x')).toBe(true);
    expect(hasQueryToken('?%61ccess_token=x')).toBe(true);
    expect(hasQueryToken('?a=1&%61%63%63%65%73%73%5f%74%6f%6b%65%6e=x')).toBe(true);
    expect(hasQueryToken('?access%5Ftokens=x')).toBe(false);
  });
});

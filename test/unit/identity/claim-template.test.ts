import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/index.js';
import { compileClaimTemplate } from '../../../src/identity/index.js';

const principal: Principal = {
  issuer: 'https://as.example.com',
  subject: 'alice',
  clientId: 'agent-1',
  scopes: new Set(['tickets:read', 'tickets:write']),
  claims: {
    sub: 'alice',
    groups: ['eng', 'ops'],
    realm_access: { roles: ['admin'] },
    'https://example.com/tenant': 'acme',
    name: 'José\nX',
    level: 3,
  },
  expiresAt: 2_000_000_000,
  tokenFingerprint: 'abc',
  authenticationMethod: 'jwt',
};

const fill = (template: string, who: Principal = principal) => compileClaimTemplate(template)(who);

describe('claim templates for identity headers', () => {
  it.each([
    ['{sub}', 'alice'],
    ['{client_id}', 'agent-1'],
    ['{scope}', 'tickets:read tickets:write'],
    ['{iss}', 'https://as.example.com'],
    ['user={sub}; via={client_id}', 'user=alice; via=agent-1'],
    ['{groups}', 'eng, ops'],
    ['{realm_access.roles}', 'admin'],
    ['{https://example.com/tenant}', 'acme'],
    ['{level}', '3'],
  ])('%s → %s', (template, expected) => {
    expect(fill(template)).toBe(expected);
  });

  it('sends no header when a named claim is missing (never half-filled)', () => {
    expect(fill('{department}')).toBeUndefined();
    expect(fill('user={sub} dept={department}')).toBeUndefined();
    expect(fill('{client_id}', { ...principal, clientId: undefined })).toBeUndefined();
  });

  it('encodes values that are not visible ASCII as =?base64?…?= (a newline cannot split the header)', () => {
    const value = fill('{name}')!;
    expect(value).toMatch(/^=\?base64\?[A-Za-z0-9+/=]+\?=$/);
    expect(Buffer.from(value.slice(9, -2), 'base64').toString('utf8')).toBe('José\nX');
  });
});

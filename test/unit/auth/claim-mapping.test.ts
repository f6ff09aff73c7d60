import { describe, expect, it } from 'vitest';
import { buildClaimMapping, DEFAULT_CLAIM_MAPPING } from '../../../src/auth/claim-mapping.js';
import { readClientId, readScopes } from '../../../src/auth/index.js';

const mapping = (overrides: Partial<typeof DEFAULT_CLAIM_MAPPING>) => buildClaimMapping({ ...DEFAULT_CLAIM_MAPPING, ...overrides });

describe('claim mapping', () => {
  it('defaults to sub, client_id/azp and scope/scp (the standard claims)', () => {
    const standard = buildClaimMapping();
    expect(standard.subject({ sub: 'u1' })).toBe('u1');
    expect(standard.clientId({ client_id: 'c1', azp: 'c2' })).toBe('c1');
    expect(standard.clientId({ azp: 'c2' })).toBe('c2');
    expect([...standard.scopes({ scope: 'a b  c' })]).toEqual(['a', 'b', 'c']);
    expect([...standard.scopes({ scp: ['x', 'y', 3] })]).toEqual(['x', 'y']);
    // The first claim present wins, as before claim mapping existed.
    expect([...standard.scopes({ scope: 'a', scp: ['b'] })]).toEqual(['a']);
    expect(readScopes({ scp: 'p q' })).toEqual(new Set(['p', 'q']));
    expect(readClientId({ azp: 'z' })).toBe('z');
  });

  it('reads Okta-shaped tokens with clientId: [cid]', () => {
    const okta = mapping({ clientId: ['cid'] });
    expect(okta.clientId({ cid: '0oa1', client_id: 'ignored' })).toBe('0oa1');
    expect([...okta.scopes({ scp: ['tickets:read', 'tickets:write'] })]).toEqual(['tickets:read', 'tickets:write']);
  });

  it('adds scope-like claims (Entra roles, Auth0 permissions) to the scopes', () => {
    const entra = mapping({ clientId: ['appid', 'azp'], additionalScopes: ['roles', 'permissions'] });
    const claims = { scp: 'tickets.read', roles: ['Tickets.Admin'], permissions: ['tickets:write'], appid: 'app-1' };
    expect([...entra.scopes(claims)].sort()).toEqual(['Tickets.Admin', 'tickets.read', 'tickets:write']);
    // An app-only token has roles but no scp.
    expect([...entra.scopes({ roles: 'Tickets.Admin Tickets.Read' })]).toEqual(['Tickets.Admin', 'Tickets.Read']);
    expect(entra.clientId(claims)).toBe('app-1');
  });

  it('follows dotted paths, and prefers a top-level claim whose name has dots (namespaced claims)', () => {
    const keycloak = mapping({ additionalScopes: ['realm_access.roles', 'https://example.com/roles'] });
    const claims = {
      scope: 'openid',
      realm_access: { roles: ['ops'] },
      'https://example.com/roles': ['auditor'],
    };
    expect([...keycloak.scopes(claims)].sort()).toEqual(['auditor', 'openid', 'ops']);
    expect(mapping({ subject: ['user.id'] }).subject({ user: { id: 'u-7' } })).toBe('u-7');
    expect(mapping({ subject: ['user.id'] }).subject({ 'user.id': 'flat', user: { id: 'nested' } })).toBe('flat');
  });

  it('ignores values of the wrong type and paths through non-objects', () => {
    const custom = mapping({ subject: ['a.b', 'sub'], scopes: ['perms'] });
    expect(custom.subject({ a: 'string', sub: 'fallback' })).toBe('fallback');
    // A subject that is there but not a string is refused, never skipped (users must not merge).
    expect(() => custom.subject({ a: { b: 42 } })).toThrow(/subject is not a string/);
    expect(() => custom.subject({ sub: null })).toThrow(/subject is not a string/);
    expect(custom.subject({ a: [{ b: 'x' }] })).toBeUndefined();
    expect([...custom.scopes({ perms: { read: true } })]).toEqual([]);
    // Prototype properties are never claims.
    expect(mapping({ subject: ['constructor.name'] }).subject({})).toBeUndefined();
  });

  it('qualifies the scopes read from `scopes` with scopePrefix (Entra), never the additional ones', () => {
    const entra = mapping({ scopePrefix: 'api://app-1/', additionalScopes: ['roles'] });
    const claims = { scp: 'tickets.read api://app-1/tickets.write', roles: ['Tickets.Admin'] };
    expect([...entra.scopes(claims)].sort()).toEqual(['Tickets.Admin', 'api://app-1/tickets.read', 'api://app-1/tickets.write']);
  });
});

import type { Principal } from '../auth/index.js';

/** Fills a header value from a verified principal; undefined when a named claim is missing. */
export type ClaimTemplate = (principal: Principal) => string | undefined;

type Part = { literal: string } | { claim: string };

/**
 * Compiles a header template such as `{sub}` or `user={sub}; client={client_id}` once, at
 * start-up. Placeholders:
 * - `{sub}`: the principal's subject (`sub`, or the client id for tokens without one);
 * - `{client_id}`: the agent (`client_id`, else `azp`);
 * - `{scope}`: the granted scopes, space-separated (from `scope` or `scp`);
 * - `{iss}`: the issuer;
 * - any other claim by name; a dotted name (`realm_access.roles`) reads nested objects when no
 *   claim has that exact name.
 * Arrays become comma-separated lists, objects JSON. When any named claim is missing, the
 * header is not sent (never half-filled). The syntax is checked by the config schema.
 */
export function compileClaimTemplate(template: string): ClaimTemplate {
  const parts: Part[] = [];
  for (const match of template.matchAll(/\{([^{}]+)\}|[^{}]+/g)) {
    parts.push(match[1] !== undefined ? { claim: match[1] } : { literal: match[0] });
  }
  return (principal) => {
    let value = '';
    for (const part of parts) {
      if ('literal' in part) {
        value += part.literal;
        continue;
      }
      const text = formatClaim(readClaim(principal, part.claim));
      if (text === undefined) return undefined;
      value += text;
    }
    return value === '' ? undefined : encodeHeaderValue(value);
  };
}

export function readClaim(principal: Principal, name: string): unknown {
  switch (name) {
    case 'sub':
      return principal.subject;
    case 'client_id':
      return principal.clientId;
    case 'scope':
      return principal.scopes.size > 0 ? [...principal.scopes].join(' ') : undefined;
    case 'iss':
      return principal.issuer;
  }
  const claims = principal.claims as Record<string, unknown>;
  if (name in claims) return claims[name];
  let current: unknown = claims;
  for (const step of name.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

function formatClaim(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map((entry) => (typeof entry === 'string' ? entry : JSON.stringify(entry))).join(', ');
  return JSON.stringify(value);
}

/**
 * A header value must be visible ASCII (RFC 9110 §5.5; CR/LF would split the header). A value
 * that is not (a name with "é", a claim with a newline) is sent whole as `=?base64?…?=` of its
 * UTF-8 bytes, the encoding the 2026-07-28 MCP transport uses for `Mcp-Param-*` values.
 */
export function encodeHeaderValue(value: string): string {
  if (/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value) && !value.startsWith('=?base64?')) return value;
  return `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

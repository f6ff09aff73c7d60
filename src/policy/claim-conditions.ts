import type { ClaimCondition } from './schema.js';

export interface CompiledCondition {
  claim: string;
  /** Human-readable form for explanations and audit: `groups contains "mcp-admins"`. */
  text: string;
  /** Returns undefined when it holds, else why not. */
  check(claims: Readonly<Record<string, unknown>>): string | undefined;
}

/** Compiles `when: { claim: condition }` once at load. */
export function compileCondition(claim: string, condition: ClaimCondition): CompiledCondition {
  const path = claim.split('.');
  const describe = (operator: string, value: unknown) => `${claim} ${operator} ${JSON.stringify(value)}`;
  const missing = `claim ${claim} is missing from the token`;

  if (condition.present !== undefined) {
    const want = condition.present;
    return {
      claim,
      text: `${claim} ${want ? 'is present' : 'is absent'}`,
      check: (claims) => ((readClaim(claims, path) !== undefined) === want ? undefined : `claim ${claim} is ${want ? 'missing' : 'present'}`),
    };
  }
  if (condition.equals !== undefined) {
    const expected = condition.equals;
    return {
      claim,
      text: describe('equals', expected),
      check: (claims) => {
        const value = readClaim(claims, path);
        if (value === undefined) return missing;
        return value === expected ? undefined : `claim ${claim} does not equal ${JSON.stringify(expected)}`;
      },
    };
  }
  if (condition.contains !== undefined) {
    const expected = condition.contains;
    return {
      claim,
      text: describe('contains', expected),
      check: (claims) => {
        const value = readClaim(claims, path);
        if (value === undefined) return missing;
        return valuesOf(value).some((entry) => entry === expected) ? undefined : `claim ${claim} does not contain ${JSON.stringify(expected)}`;
      },
    };
  }
  const allowed = condition.in ?? [];
  return {
    claim,
    text: describe('in', allowed),
    check: (claims) => {
      const value = readClaim(claims, path);
      if (value === undefined) return missing;
      return valuesOf(value).some((entry) => allowed.some((candidate) => candidate === entry)) ? undefined : `claim ${claim} is not one of ${JSON.stringify(allowed)}`;
    },
  };
}

/** A list claim as its elements; a space-separated string (like `scope`) as its words; anything else as itself. */
function valuesOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string' && value.includes(' ')) return [value, ...value.split(' ')];
  return [value];
}

function readClaim(claims: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let current: unknown = claims;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

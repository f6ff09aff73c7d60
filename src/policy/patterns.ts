/**
 * Patterns in policy rules, compiled once at load.
 *
 * - Names (tools, prompts, methods): `*` any characters, `?` one character.
 * - Resource URIs: `**` any characters, `*` any characters but `/`, `?` one
 *   character, and RFC 6570 template expressions: `{var}` one path segment,
 *   `{+var}` / `{#var}` anything (reserved expansion).
 * Everything else is literal. A pattern without wildcards is exact and is
 * looked up in a map, never scanned.
 */
export interface CompiledPattern {
  source: string;
  /** True when the pattern has no wildcard: it matches only itself. */
  exact: boolean;
  /** The literal text before the first wildcard (the whole source when exact). */
  literalPrefix: string;
  test(value: string): boolean;
}

const NAME_WILDCARD = /[*?]/;
const URI_WILDCARD = /[*?{]/;

export function compileNamePattern(source: string): CompiledPattern {
  return compile(source, NAME_WILDCARD, (rest) => {
    let regex = '';
    for (const char of rest) regex += char === '*' ? '.*' : char === '?' ? '.' : escapeRegex(char);
    return regex;
  });
}

export function compileUriPattern(source: string): CompiledPattern {
  return compile(source, URI_WILDCARD, (rest) => {
    let regex = '';
    for (let i = 0; i < rest.length; i += 1) {
      const char = rest[i]!;
      if (char === '*' && rest[i + 1] === '*') {
        regex += '.*';
        i += 1;
      } else if (char === '*') {
        regex += '[^/]*';
      } else if (char === '?') {
        regex += '.';
      } else if (char === '{') {
        const end = rest.indexOf('}', i);
        if (end < 0) throw new PatternError(`unclosed "{" in URI template ${JSON.stringify(source)}`);
        const operator = rest[i + 1];
        regex += operator === '+' || operator === '#' ? '.+' : '[^/]+';
        i = end;
      } else {
        regex += escapeRegex(char);
      }
    }
    return regex;
  });
}

export class PatternError extends Error {
  override readonly name = 'PatternError';
}

function compile(source: string, wildcard: RegExp, toRegex: (rest: string) => string): CompiledPattern {
  const firstWildcard = source.search(wildcard);
  if (firstWildcard < 0) {
    return { source, exact: true, literalPrefix: source, test: (value) => value === source };
  }
  const literalPrefix = source.slice(0, firstWildcard);
  const regex = new RegExp(`^${escapeRegex(literalPrefix)}${toRegex(source.slice(firstWildcard))}$`, 's');
  return { source, exact: false, literalPrefix, test: (value) => regex.test(value) };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Key names whose values never reach an audit record, matched case-insensitively and ignoring `-`/`_`, as substrings (so `db_password` and `githubToken` are caught). */
export const DEFAULT_SENSITIVE_KEYS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'api_key',
  'authorization',
  'cookie',
  'client_secret',
  'private_key',
  'credential',
  'session',
] as const;

export interface RedactionOptions {
  /** Extra sensitive key names (added to the defaults). */
  keys: readonly string[];
  /** Paths inside the arguments to redact whatever their key: `config.dsn`, `servers[0].url`, `$.a.*.b`. */
  paths: readonly string[];
  /** Arguments larger than this after redaction (serialized) are replaced by a size note. */
  maxBytes: number;
}

const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi;
const MAX_DEPTH = 24;
const MAX_STRING = 1024;
const MAX_ITEMS = 100;
const MAX_REMEMBERED_KEYS = 1024;
export const REDACTED = '[REDACTED]';

/**
 * Prepares tool arguments (or any JSON value) for an audit record: values of
 * sensitive keys and configured paths are replaced, bearer tokens and JWTs
 * inside strings are masked, long strings and lists are shortened, and the
 * whole is capped in size. Compiled once from the config.
 */
export function createRedactor(options: RedactionOptions): (value: unknown) => RedactedArguments {
  const sensitive = [...DEFAULT_SENSITIVE_KEYS, ...options.keys].map(normalizeKey);
  const paths = options.paths.map(parsePath);
  // Argument names repeat from call to call: decide each name once (bounded, names are client data).
  const verdicts = new Map<string, boolean>();
  const isSensitive = (key: string) => {
    let verdict = verdicts.get(key);
    if (verdict === undefined) {
      const normalized = normalizeKey(key);
      verdict = sensitive.some((name) => normalized.includes(name));
      if (verdicts.size >= MAX_REMEMBERED_KEYS) verdicts.clear();
      verdicts.set(key, verdict);
    }
    return verdict;
  };

  function visit(value: unknown, path: string[], depth: number): unknown {
    if (paths.length > 0 && paths.some((pattern) => matchesPath(pattern, path))) return REDACTED;
    if (typeof value === 'string') return maskString(value);
    if (typeof value !== 'object' || value === null) return value;
    if (depth >= MAX_DEPTH) return '[depth limit]';
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_ITEMS).map((item, index) => visit(item, paths.length > 0 ? [...path, String(index)] : path, depth + 1));
      if (value.length > MAX_ITEMS) items.push(`[+${value.length - MAX_ITEMS} items]`);
      return items;
    }
    const result: Record<string, unknown> = {};
    const object = value as Record<string, unknown>;
    // (for…in over a parsed JSON object: own members only, and no entry arrays to allocate.)
    for (const key in object) {
      // A member name is client data like any value: it may hold a token.
      const name = maskString(key);
      const redacted = isSensitive(key) ? REDACTED : visit(object[key], paths.length > 0 ? [...path, key] : path, depth + 1);
      // A member named "__proto__" (legal JSON) must stay a member, not replace the prototype.
      if (name === '__proto__') Object.defineProperty(result, name, { value: redacted, enumerable: true, writable: true, configurable: true });
      else result[name] = redacted;
    }
    return result;
  }

  return (value) => {
    const redacted = visit(value, [], 0);
    const json = JSON.stringify(redacted) ?? 'null';
    const size = Buffer.byteLength(json);
    if (size <= options.maxBytes) return new RedactedArguments(redacted, json);
    const note = { '[truncated]': true, bytes: size };
    return new RedactedArguments(note, JSON.stringify(note));
  };
}

/**
 * Redacted arguments and their JSON: the size cap has to serialize them, and the record line
 * (recordLine) reuses that text instead of serializing them again. JSON.stringify of a record
 * gives the same bytes through toJSON.
 */
export class RedactedArguments {
  constructor(
    readonly value: unknown,
    readonly json: string,
  ) {}

  toJSON(): unknown {
    return this.value;
  }
}

function maskString(value: string): string {
  let masked = value.includes('eyJ') ? value.replace(JWT, '[REDACTED:jwt]') : value;
  if (/bearer/i.test(masked)) masked = masked.replace(BEARER, '$1 [REDACTED]');
  return masked.length > MAX_STRING ? `${masked.slice(0, MAX_STRING)}…[+${masked.length - MAX_STRING} chars]` : masked;
}

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

/** `$.a.b[0].*` → ['a', 'b', '0', '*'] */
function parsePath(path: string): string[] {
  return path
    .replace(/^\$\.?/, '')
    .replace(/\[(\d+|\*)\]/g, '.$1')
    .split('.')
    .filter(Boolean);
}

function matchesPath(pattern: readonly string[], path: readonly string[]): boolean {
  if (pattern.length !== path.length) return false;
  return pattern.every((segment, index) => segment === '*' || segment === path[index]);
}

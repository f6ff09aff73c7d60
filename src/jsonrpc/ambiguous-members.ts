/**
 * Finds member names a JSON parser other than ours could read differently.
 *
 * The gateway decides on its own reading of the body (JSON.parse: the last of
 * duplicate members wins) and forwards the bytes unchanged. An upstream whose
 * parser keeps the first duplicate, or matches names case-insensitively (Go's
 * encoding/json, .NET with web defaults), would then act on another method or
 * tool than the one decided: `{"method":"ping","METHOD":"tools/call",…}`. So:
 *
 * - no object anywhere may repeat a member name (I-JSON, RFC 7493 §2.3);
 * - in the envelope (a message, its `params`, `params.ref`, `params._meta`)
 *   no two names may be equal ignoring case, with Unicode case folding
 *   (`paramſ` is `params` to Go).
 *
 * @param text valid JSON (already parsed once)
 * @returns a description of the first ambiguous member, or undefined
 */
export function findAmbiguousMember(text: string): string | undefined {
  const stack: Frame[] = [];
  let expectKey = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charCodeAt(index);
    if (char === QUOTE) {
      const end = endOfString(text, index);
      const top = stack.at(-1);
      if (top?.keys && expectKey) {
        const raw = text.slice(index, end + 1);
        const name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.keys.has(name)) return 'a member name is repeated';
        top.keys.add(name);
        if (top.folded) {
          const folded = foldCase(name);
          if (top.folded.has(folded)) return 'two member names differ only in case';
          top.folded.add(folded);
        }
        top.lastKey = name;
        expectKey = false;
      }
      index = end;
    } else if (char === OPEN_OBJECT) {
      const role = roleOf(stack);
      stack.push({ keys: new Set(), folded: role ? new Set() : undefined, role, lastKey: undefined });
      expectKey = true;
    } else if (char === OPEN_ARRAY) {
      stack.push({ keys: undefined, folded: undefined, role: stack.length === 0 ? 'batch' : undefined, lastKey: undefined });
    } else if (char === CLOSE_OBJECT || char === CLOSE_ARRAY) {
      stack.pop();
    } else if (char === COMMA) {
      expectKey = stack.at(-1)?.keys !== undefined;
    }
  }
  return undefined;
}

type Role = 'message' | 'params' | 'ref' | 'meta' | 'batch';

interface Frame {
  /** Member names so far (objects only). */
  keys: Set<string> | undefined;
  /** Case-folded names so far (envelope objects only). */
  folded: Set<string> | undefined;
  role: Role | undefined;
  lastKey: string | undefined;
}

const QUOTE = 0x22;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/** The envelope role of an object about to open, from where it sits. */
function roleOf(stack: readonly Frame[]): Role | undefined {
  const parent = stack.at(-1);
  if (!parent) return 'message';
  if (parent.role === 'batch') return 'message';
  if (parent.role === 'message' && parent.lastKey === 'params') return 'params';
  if (parent.role === 'params' && parent.lastKey === 'ref') return 'ref';
  if (parent.role === 'params' && parent.lastKey === '_meta') return 'meta';
  return undefined;
}

/** Index of the closing quote of the string starting at `start`. */
function endOfString(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    const char = text.charCodeAt(index);
    if (char === 0x5c) index += 2;
    else if (char === QUOTE) return index;
    else index += 1;
  }
  return index;
}

/** Unicode case folding, close enough to Go's EqualFold: ſ (U+017F) → s, K (U+212A) → k. */
function foldCase(name: string): string {
  return name.toUpperCase().toLowerCase();
}

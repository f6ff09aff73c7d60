import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/** A place in a YAML file, 1-based, for messages such as `gateway.yaml:12:5`. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** One problem found in a YAML source: where, which key, what was expected. */
export interface SourceIssue {
  location?: SourceLocation;
  /** Dotted path of the offending key, e.g. `authorizationServers[0].issuer`. */
  path: string;
  message: string;
}

/**
 * A parsed YAML file that can point at the line and column of any key path.
 * Shared by the config loader and the policy loader so both report problems the same way.
 */
export interface YamlSource {
  file: string;
  document: Document;
  /** YAML syntax errors, already located. Empty when the file parsed. */
  syntaxIssues: SourceIssue[];
  /** Location of the node at `path`, or of its nearest existing ancestor. */
  locate(path: readonly PropertyKey[], { key }?: { key?: boolean }): SourceLocation | undefined;
  /** Location of a character offset in the text. */
  locateOffset(offset: number): SourceLocation;
}

export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const syntaxIssues: SourceIssue[] = document.errors.map((error) => ({
    location: at(error.pos[0]),
    path: '',
    message: error.message.split('\n')[0] ?? error.message,
  }));
  return {
    file,
    document,
    syntaxIssues,
    locate(path, { key = false } = {}) {
      const node = findNode(document, path, key);
      const offset = node?.range?.[0];
      return offset === undefined ? undefined : at(offset);
    },
    locateOffset: at,
  };
}

/**
 * Walks `path` through maps and sequences. With `key`, the last step returns the
 * key node (for "unknown key" messages) rather than the value.
 */
function findNode(document: Document, path: readonly PropertyKey[], wantKey: boolean): Node | undefined {
  let current: unknown = document.contents;
  let lastFound: Node | undefined = isNodeLike(current) ? current : undefined;
  for (const [index, step] of path.entries()) {
    const isLast = index === path.length - 1;
    if (isMap(current)) {
      const pair = current.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(step));
      if (!pair) return lastFound;
      if (isLast && wantKey && isNodeLike(pair.key)) return pair.key;
      current = pair.value;
    } else if (isSeq(current) && typeof step === 'number') {
      current = current.items[step];
    } else {
      return lastFound;
    }
    if (!isNodeLike(current)) return lastFound;
    lastFound = current;
  }
  return lastFound;
}

function isNodeLike(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value;
}

/** `['a', 0, 'b']` → `a[0].b` */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, step) => {
    if (typeof step === 'number') return `${text}[${step}]`;
    return text === '' ? String(step) : `${text}.${String(step)}`;
  }, '');
}

/** `file:line:column: path: message`, the format of every config and policy error. */
export function formatSourceIssue(issue: SourceIssue): string {
  const where = issue.location ? `${issue.location.file}:${issue.location.line}:${issue.location.column}` : undefined;
  return [where, issue.path || undefined, issue.message].filter(Boolean).join(': ');
}

import { readFileSync } from 'node:fs';
import { visit, type Document } from 'yaml';
import type { SourceIssue, SourceLocation } from './yaml-source.js';

/** `${env:NAME}` or `${file:/path}`; `$${…}` stays literal. */
const REFERENCE = /\$?\$\{(env|file):([^}]*)\}/g;

export interface SubstitutionSources {
  env: Readonly<Record<string, string | undefined>>;
  readFile?: (path: string) => string;
}

/**
 * Replaces `${env:NAME}` and `${file:/path}` references in every string scalar of
 * the document, in place. Values come from the environment or a file (a trailing
 * newline is dropped, as files mounted from Kubernetes Secrets often end with one).
 *
 * Problems are returned with the location of the scalar and the name of the
 * variable or file, never the value: substituted values are secrets.
 */
export function substituteReferences(
  document: Document,
  sources: SubstitutionSources,
  locate: (offset: number) => SourceLocation,
): SourceIssue[] {
  const issues: SourceIssue[] = [];
  const readFile = sources.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  visit(document, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const offset = node.range?.[0] ?? 0;
      const wholeReference = node.type === 'PLAIN' && /^\$\{(env|file):[^}]*\}$/.test(node.value);
      const replaced = node.value.replace(REFERENCE, (match, kind: string, name: string) => {
        if (match.startsWith('$$')) return match.slice(1);
        const resolved = kind === 'env' ? resolveEnv(name, sources.env) : resolveFile(name, readFile);
        if (typeof resolved === 'string') return resolved;
        issues.push({ location: locate(offset), path: '', message: resolved.problem });
        return '';
      });
      node.value = wholeReference ? asPlainScalar(replaced) : replaced;
    },
  });
  return issues;
}

function resolveEnv(name: string, env: SubstitutionSources['env']): string | { problem: string } {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return { problem: `\${env:${name}} is not a valid variable name` };
  const value = env[name];
  if (value === undefined) return { problem: `environment variable ${name} is not set` };
  return value;
}

function resolveFile(path: string, readFile: (path: string) => string): string | { problem: string } {
  if (!path.startsWith('/')) return { problem: `\${file:${path}} must be an absolute path` };
  try {
    return readFile(path).replace(/\r?\n$/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { problem: `cannot read secret file ${path} (${code})` };
  }
}

/**
 * An unquoted scalar that is only a reference (`port: ${env:PORT}`) takes the
 * type its value reads as, like any plain YAML scalar; quote it to keep a string.
 */
function asPlainScalar(value: string): string | number | boolean {
  if (/^-?(0|[1-9][0-9]*)$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
}

import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatKeyPath, parseYamlSource } from '../config/index.js';
import { compilePolicy, type CompileResult, type LoadedPolicyFile } from './compile-policy.js';
import { PolicyError, type PolicyFinding } from './policy-error.js';
import { policyFileSchema } from './schema.js';

const POLICY_FILE = /^[^.].*\.ya?ml$/;

/** Whether the loader reads a file of this name: `*.yaml`/`*.yml`, not hidden (`..data`). */
export const isPolicyFileName = (name: string): boolean => POLICY_FILE.test(name);

/**
 * Reads every `*.yaml`/`*.yml` file of a directory (not hidden ones: a
 * Kubernetes ConfigMap volume keeps its real files under `..data/` and exposes
 * them as top-level symlinks, which are followed), validates each against the
 * policy schema and compiles them together, in file-name order.
 *
 * @throws PolicyError listing every problem with file:line:column
 */
export async function loadPolicyDirectory(directory: string): Promise<CompileResult> {
  return parsePolicyFiles(await readPolicyFiles(directory));
}

/** The policy files of a directory, in file-name order, with their text. */
export async function readPolicyFiles(directory: string): Promise<PolicyFileText[]> {
  let names: string[];
  try {
    names = (await readdir(directory)).filter(isPolicyFileName).sort();
  } catch (error) {
    throw new PolicyError([{ severity: 'error', path: '', message: `cannot read policy directory ${directory} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})` }]);
  }
  const files: PolicyFileText[] = [];
  for (const name of names) {
    const path = join(directory, name);
    try {
      if (!(await stat(path)).isFile()) continue;
      files.push({ file: path, text: await readFile(path, 'utf8') });
    } catch (error) {
      throw new PolicyError([{ severity: 'error', path: '', message: `cannot read policy file ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})` }]);
    }
  }
  if (files.length === 0) {
    throw new PolicyError([{ severity: 'error', path: '', message: `no policy files (*.yaml, *.yml) in ${directory}` }]);
  }
  return files;
}

export interface PolicyFileText {
  file: string;
  text: string;
}

/** A short hash of the policy files (names and contents): the policy version. */
export function computePolicyVersion(files: readonly PolicyFileText[]): string {
  const hash = createHash('sha256');
  for (const { file, text } of files) hash.update(file).update('\0').update(text).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/** Validates and compiles policy files already in memory (tests, `policy test`). */
export function parsePolicyFiles(files: readonly PolicyFileText[]): CompileResult {
  const loaded: LoadedPolicyFile[] = [];
  const findings: PolicyFinding[] = [];
  for (const { file, text } of files) {
    const source = parseYamlSource(text, file);
    if (source.syntaxIssues.length > 0) {
      findings.push(...source.syntaxIssues.map((issue) => ({ ...issue, severity: 'error' as const })));
      continue;
    }
    const result = policyFileSchema.safeParse(source.document.toJS() ?? {});
    if (!result.success) {
      for (const issue of result.error.issues) {
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
        for (const key of keys) {
          const path = key === undefined ? issue.path : [...issue.path, key];
          findings.push({
            severity: 'error',
            location: source.locate(path, { key: key !== undefined }) ?? { file, line: 1, column: 1 },
            path: formatKeyPath(path),
            message: key === undefined ? issue.message.replace(/^Invalid input: /, '') : 'unknown key',
          });
        }
      }
      continue;
    }
    loaded.push({ file, text, policy: result.data, source });
  }
  if (findings.length > 0) throw new PolicyError(findings);
  return compilePolicy(loaded, computePolicyVersion(files));
}

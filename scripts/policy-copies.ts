/**
 * Copies of policy files that the deployment assets must carry: kustomize and Helm read files
 * only from inside their own directory (kustomize's load restrictor, Helm's `.Files`), so the
 * policies they ship cannot be referenced from `policies/`. `npm run generate` writes them and
 * test/deploy/policy-copies.test.ts fails when a committed copy is out of date.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCHEMA = 'schema/policy.schema.json';
const SCHEMA_LINE = /^# yaml-language-server: \$schema=\S+\n/;

/** The policy files of a directory of `policies/` (not its subdirectories), by name. */
function policyFiles(dir: string): string[] {
  return readdirSync(`${ROOT}${dir}`, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => `${dir}/${entry.name}`)
    .sort();
}

/** What to copy where: every policy file of `from` into `to`. */
const COPIES: Array<{ from: string; to: string }> = [
  // The baseline the sidecar component and the Helm chart ship until the user replaces it.
  { from: 'policies/baseline', to: 'deploy/kubernetes/components/gateway-sidecar/policies' },
  { from: 'policies/baseline', to: 'deploy/helm/mcp-auth-gateway/files/policies' },
  // The example overlay protects the ticketing server the example policies were written for.
  { from: 'policies', to: 'deploy/kubernetes/overlays/example/policies' },
];

/** A copy: the editor's schema hint re-pointed from its new place, and where it comes from. */
function copyOf(source: string, targetDir: string): string {
  const text = readFileSync(`${ROOT}${source}`, 'utf8');
  const schema = posix.relative(targetDir, SCHEMA);
  const header = `# yaml-language-server: $schema=${schema}\n# Generated from ${source} by \`npm run generate\`: edit that file, not this copy.\n`;
  return SCHEMA_LINE.test(text) ? text.replace(SCHEMA_LINE, header) : header + text;
}

/** Every copy, by repository path. */
export function policyCopies(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const { from, to } of COPIES) {
    for (const source of policyFiles(from)) files[`${to}/${posix.basename(source)}`] = copyOf(source, to);
  }
  return files;
}

/** Directories that hold nothing but copies (a file there that is no copy is stale). */
export const policyCopyDirectories = (): string[] => [...new Set(COPIES.map((copy) => copy.to))];

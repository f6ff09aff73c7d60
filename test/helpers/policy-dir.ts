import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const EXAMPLE_POLICIES = new URL('../../policies/', import.meta.url).pathname;

/** A scratch copy of the example policies (or an empty directory) that a test may edit. */
export function copyPolicies(files: Record<string, string> = {}, { fromExamples = true } = {}): { directory: string; write(name: string, text: string): void; remove(): void } {
  const directory = mkdtempSync(join(tmpdir(), 'mcp-gw-policy-'));
  if (fromExamples) cpSync(EXAMPLE_POLICIES, directory, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
  return {
    directory,
    write: (name, text) => writeFileSync(join(directory, name), text),
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}

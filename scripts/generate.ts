/**
 * Writes the files generated from the schemas: the JSON Schema for editors and
 * the configuration reference. `test/unit/generated-files.test.ts` fails when a
 * committed copy is out of date, so they cannot drift.
 */
import { writeFileSync } from 'node:fs';
import { generatedFiles } from '../src/config/generated-files.js';

for (const [path, content] of Object.entries(generatedFiles())) {
  writeFileSync(new URL(`../${path}`, import.meta.url), content);
  console.log(`wrote ${path}`);
}

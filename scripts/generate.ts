/**
 * Writes the files generated from the schemas: the JSON Schema for editors and
 * the configuration reference, and the generated sections of hand-written docs.
 * `test/unit/generated-files.test.ts` and `generated-sections.test.ts` fail when a
 * committed copy is out of date, so they cannot drift.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { generatedFiles } from '../src/config/generated-files.js';
import { generatedSections, spliceSection } from '../src/config/operations-reference.js';

for (const [path, content] of Object.entries(generatedFiles())) {
  writeFileSync(new URL(`../${path}`, import.meta.url), content);
  console.log(`wrote ${path}`);
}
for (const section of generatedSections()) {
  const url = new URL(`../${section.path}`, import.meta.url);
  writeFileSync(url, spliceSection(readFileSync(url, 'utf8'), section));
  console.log(`updated the generated section of ${section.path}`);
}

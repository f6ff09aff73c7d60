/**
 * Writes the files generated from the schemas: the JSON Schema for editors and
 * the configuration reference, and the generated sections of hand-written docs;
 * and the copies of policies/ that the deployment assets ship.
 * `test/unit/generated-files.test.ts`, `generated-sections.test.ts` and
 * `test/deploy/policy-copies.test.ts` fail when a committed copy is out of date,
 * so they cannot drift.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generatedFiles } from '../src/config/generated-files.js';
import { generatedSections, spliceSection } from '../src/config/operations-reference.js';
import { policyCopies, policyCopyDirectories } from './policy-copies.js';

for (const [path, content] of Object.entries(generatedFiles())) {
  writeFileSync(new URL(`../${path}`, import.meta.url), content);
  console.log(`wrote ${path}`);
}
for (const section of generatedSections()) {
  const url = new URL(`../${section.path}`, import.meta.url);
  writeFileSync(url, spliceSection(readFileSync(url, 'utf8'), section));
  console.log(`updated the generated section of ${section.path}`);
}
const copies = policyCopies();
for (const dir of policyCopyDirectories()) {
  const url = new URL(`../${dir}/`, import.meta.url);
  mkdirSync(url, { recursive: true });
  for (const name of readdirSync(url)) {
    if (!(`${dir}/${name}` in copies)) {
      rmSync(new URL(name, url));
      console.log(`removed ${dir}/${name} (its source is gone)`);
    }
  }
}
for (const [path, content] of Object.entries(copies)) {
  const url = new URL(`../${path}`, import.meta.url);
  mkdirSync(dirname(url.pathname), { recursive: true });
  writeFileSync(url, content);
  console.log(`wrote ${path}`);
}

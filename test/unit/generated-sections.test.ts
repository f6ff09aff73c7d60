import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildFlatConfigTable, generatedSections, spliceSection } from '../../src/config/operations-reference.js';

describe('generated sections of hand-written docs', () => {
  it.each(generatedSections().map((section) => [section.path, section] as const))('%s is up to date (run `npm run generate`)', (path, section) => {
    const text = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
    expect(spliceSection(text, section)).toBe(text);
  });

  it('lists every leaf key of the schema with its default, and marks secrets', () => {
    const table = buildFlatConfigTable();
    expect(table).toContain('| `listen.port` | integer | `8080` |  |');
    expect(table).toContain('| `resource.url` | URL | **required** |  |');
    expect(table).toContain('| `authorizationServers[].issuer` | URL | **required** |  |');
    expect(table).toContain('| `upstream.credential.value` | string (with type: static) | **required** | yes |');
    expect(table).toContain('| `shutdown.lameDuckMs` | integer | `0` |  |');
  });

  it('refuses a document without its markers', () => {
    expect(() => spliceSection('no markers', generatedSections()[0]!)).toThrow(/markers/);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../../src/config/generated-files.js';
import { buildConfigJsonSchema } from '../../src/config/reference.js';

describe('files generated from the schemas', () => {
  it.each(Object.entries(generatedFiles()))('%s is up to date (run `npm run generate`)', (path, content) => {
    expect(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')).toBe(content);
  });

  it('gateway.example.yaml shows every option of the schema', () => {
    const example = readFileSync(new URL('../../gateway.example.yaml', import.meta.url), 'utf8');
    const missing: string[] = [];
    const visit = (schema: { properties?: Record<string, unknown>; items?: unknown }, path: string) => {
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        if (key === '$schema') continue;
        if (!new RegExp(`^\\s*(- )?#?\\s*${key}:`, 'm').test(example)) missing.push(`${path}${key}`);
        const node = child as { properties?: Record<string, unknown>; items?: { properties?: Record<string, unknown> } };
        visit(node.items ?? node, `${path}${key}.`);
      }
    };
    visit(buildConfigJsonSchema(), '');
    expect(missing).toEqual([]);
  });
});

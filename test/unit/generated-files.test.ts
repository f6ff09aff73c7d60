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
    type Node = { properties?: Record<string, unknown>; items?: Node; oneOf?: Node[]; anyOf?: Node[] };
    const visit = (schema: Node, path: string) => {
      // Every form of a union (upstream.credential) counts: commented-out forms are shown too.
      for (const variant of schema.oneOf ?? schema.anyOf ?? []) visit(variant, path);
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        if (key === '$schema') continue;
        if (!new RegExp(`^\\s*(- )?(#\\s*)*(- )?${key}:`, 'm').test(example)) missing.push(`${path}${key}`);
        const node = child as Node;
        visit(node.items ?? node, `${path}${key}.`);
      }
    };
    visit(buildConfigJsonSchema(), '');
    expect(missing).toEqual([]);
  });
});

import { buildConfigJsonSchema } from './reference.js';

type JsonSchema = ReturnType<typeof buildConfigJsonSchema>;

/** A region of a hand-written document that is generated: everything between the markers. */
export interface GeneratedSection {
  path: string;
  begin: string;
  end: string;
  content: string;
}

/**
 * Every configuration key on one line (dotted path, type, default, secret or not), for
 * docs/operations.md. Generated from the same schema as the validator, so it cannot drift.
 */
export function buildFlatConfigTable(): string {
  const schema = buildConfigJsonSchema();
  const rows: string[] = [];
  const visit = (node: JsonSchema, path: string, required: boolean, variant = '') => {
    const variants = (node.oneOf ?? node.anyOf) as JsonSchema[] | undefined;
    if (variants?.some((option) => option.properties)) {
      // A union (upstream.credential): each form's keys, marked with the form.
      for (const option of variants) {
        const tag = (option.properties?.type as JsonSchema | undefined)?.const;
        visit(option, path, required, tag === undefined ? variant : ` (with type: ${String(tag)})`);
      }
      return;
    }
    const objectNode = node.type === 'array' && node.items?.properties ? node.items : node;
    if (objectNode.properties) {
      const suffix = node.type === 'array' ? '[]' : '';
      for (const [key, child] of Object.entries(objectNode.properties)) {
        if (key === '$schema') continue;
        const childRequired = (objectNode.required ?? []).includes(key) && child.default === undefined;
        visit(child, path ? `${path}${suffix}.${key}` : key, childRequired, variant);
      }
      return;
    }
    const type = node.enum
      ? node.enum.map((value) => String(value)).join(' \\| ')
      : node.type === 'array'
        ? `list of ${String(node.items?.type ?? 'values')}`
        : node.format === 'uri'
          ? 'URL'
          : node.const !== undefined
            ? `\`${String(node.const)}\``
            : String(node.type ?? 'any');
    const fallback = node.default === undefined ? (required ? '**required**' : '') : `\`${JSON.stringify(node.default)}\``;
    const shownDefault = fallback.length > 40 ? 'see reference' : fallback;
    rows.push(`| \`${path}\` | ${type}${variant} | ${shownDefault} | ${node.writeOnly ? 'yes' : ''} |`);
  };
  visit(schema, '', false);
  return ['| key | type | default | secret |', '|---|---|---|---|', ...rows].join('\n');
}

export function generatedSections(): GeneratedSection[] {
  return [
    {
      path: 'docs/operations.md',
      begin: '<!-- BEGIN GENERATED: config keys (npm run generate) -->',
      end: '<!-- END GENERATED: config keys -->',
      content: buildFlatConfigTable(),
    },
  ];
}

/** `text` with the section's region replaced by its content; throws when the markers are missing. */
export function spliceSection(text: string, section: GeneratedSection): string {
  const start = text.indexOf(section.begin);
  const end = text.indexOf(section.end);
  if (start < 0 || end < start) throw new Error(`${section.path}: markers ${section.begin} … ${section.end} not found`);
  return `${text.slice(0, start + section.begin.length)}\n${section.content}\n${text.slice(end)}`;
}

import { policyFileSchema } from '../policy/schema.js';
import { buildConfigJsonSchema, buildConfigReference, buildJsonSchema, buildReference } from './reference.js';

/** Every file generated from a schema, by repository path. */
export function generatedFiles(): Record<string, string> {
  const policySchema = buildJsonSchema(policyFileSchema, { file: 'policy.schema.json', title: 'mcp-auth-gateway policy file' });
  return {
    'schema/gateway-config.schema.json': `${JSON.stringify(buildConfigJsonSchema(), null, 2)}\n`,
    'docs/configuration.md': buildConfigReference(),
    'schema/policy.schema.json': `${JSON.stringify(policySchema, null, 2)}\n`,
    'docs/policy-reference.md': buildReference({
      title: 'Policy file reference',
      schema: policySchema,
      intro: [
        'Every key of a policy file. The guide with examples is `docs/policy.md`; commented examples are in',
        '`policies/`. Editors check and complete policy files with `schema/policy.schema.json`.',
      ],
    }),
  };
}

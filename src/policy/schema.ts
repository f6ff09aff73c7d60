import { z } from 'zod';

/**
 * The policy file schema: the single source of truth for policy types,
 * validation messages and `schema/policy.schema.json`. A policy is a directory
 * of these files, merged in file-name order; each file is typically owned by
 * one team. Unknown keys are errors, so a typo never silently means "no rule".
 */

const scope = z
  .string()
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { error: 'expected a scope token (RFC 6749 §3.3: no spaces or quotes)' });
const scopeList = z.array(scope);

const claimValue = z.union([z.string(), z.number(), z.boolean()]);

export const claimConditionSchema = z
  .strictObject({
    equals: claimValue.optional().describe('The claim equals this value (a string claim, or a number/boolean).'),
    contains: claimValue.optional().describe('The claim is a list containing this value, or a space-separated string containing it.'),
    in: z.array(claimValue).optional().describe('The claim equals one of these values (or, for a list claim, contains one of them).'),
    present: z.boolean().optional().describe('true: the claim must exist; false: it must not.'),
  })
  .refine((condition) => Object.values(condition).filter((value) => value !== undefined).length === 1, {
    error: 'a claim condition needs exactly one of equals, contains, in, present',
  })
  .describe('One test on one claim.');

const ruleFields = {
  id: z.string().min(1).optional().describe('A stable name for the rule, shown in audit records and `policy explain`.'),
  description: z.string().optional().describe('Why the rule exists.'),
  scopes: scopeList
    .optional()
    .describe('Scopes that must all be granted. `[]` means: any valid token. Scope hierarchy applies.'),
  anyOf: z
    .array(scopeList.min(1))
    .min(1)
    .optional()
    .describe('Alternatives: one of these scope sets must be granted in full (in addition to `scopes`).'),
  when: z
    .record(z.string().min(1), claimConditionSchema)
    .optional()
    .describe('Claim conditions, all of which must hold. Keys are claim names; dots reach into objects (`realm_access.roles`).'),
  deny: z.literal(true).optional().describe('Never allow this target, whatever the token.'),
  shadow: z
    .boolean()
    .optional()
    .describe('Evaluate and record "would deny", but allow. For rolling out a tightened rule safely.'),
};

const requireDecision = (rule: { scopes?: unknown; anyOf?: unknown; deny?: unknown }) =>
  rule.scopes !== undefined || rule.anyOf !== undefined || rule.deny !== undefined;
const decisionMessage = {
  error: 'a rule needs `scopes` (use `scopes: []` for "any valid token"), `anyOf` or `deny: true`',
};

export const toolRuleSchema = z
  .strictObject({
    name: z.string().min(1).describe('Tool name, exact or a glob: `*` any characters, `?` one character (`admin_*`).'),
    ...ruleFields,
  })
  .refine(requireDecision, decisionMessage)
  .describe('Who may call a tool (`tools/call`) and see it in `tools/list`.');

export const promptRuleSchema = z
  .strictObject({
    name: z.string().min(1).describe('Prompt name, exact or a glob.'),
    ...ruleFields,
  })
  .refine(requireDecision, decisionMessage)
  .describe('Who may get a prompt (`prompts/get`) and see it in `prompts/list`.');

export const resourceRuleSchema = z
  .strictObject({
    uri: z
      .string()
      .min(1)
      .describe(
        'Resource URI: exact, a glob (`*` within a path segment, `**` across segments) or an RFC 6570 template (`tickets://{id}`).',
      ),
    ...ruleFields,
  })
  .refine(requireDecision, decisionMessage)
  .describe('Who may read or subscribe to a resource and see it in `resources/list` and `resources/templates/list`.');

export const methodRuleSchema = z
  .strictObject({
    method: z.string().min(1).describe('JSON-RPC method, exact or a glob (`notifications/*`).'),
    ...ruleFields,
  })
  .refine(requireDecision, decisionMessage)
  .describe(
    'Who may use a JSON-RPC method. For tools/call, prompts/get and resources/* a method rule applies in addition to the target rule.',
  );

export const DENY_RESPONSES = ['http-403', 'jsonrpc-error'] as const;

/** Methods that need only a valid token unless a `methods` rule says otherwise. */
export const DEFAULT_OPEN_METHODS = [
  'initialize',
  'ping',
  'notifications/*',
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'subscriptions/listen',
];

export const policySettingsSchema = z
  .strictObject({
    unmatched: z
      .enum(['deny', 'allow'])
      .default('deny')
      .describe('Decision for a call no rule matches (a tool, prompt, resource or method without a rule).'),
    openMethods: z
      .array(z.string().min(1))
      .default(DEFAULT_OPEN_METHODS)
      .describe(
        'Methods (globs allowed) that need only a valid token when no `methods` rule matches. List methods are filtered to what the caller may use.',
      ),
    clientResponses: z
      .enum(['allow', 'deny'])
      .default('allow')
      .describe('JSON-RPC responses from the client (answers to sampling, elicitation, roots requests).'),
    denyResponse: z
      .enum(DENY_RESPONSES)
      .default('http-403')
      .describe(
        'How a denied call is answered: `http-403` (403 + WWW-Authenticate insufficient_scope, spec-correct step-up) or `jsonrpc-error` (HTTP 200 with a JSON-RPC error naming the missing scopes, for clients that mishandle step-up).',
      ),
    clients: z
      .record(
        z.string().min(1),
        z.strictObject({ denyResponse: z.enum(DENY_RESPONSES).describe('Deny shape for this client id.') }),
      )
      .default({})
      .describe('Per client id (`client_id`/`azp`) overrides.'),
    challengeScopes: scopeList
      .optional()
      .describe('Scopes named in the 401 challenge. Default: the scopes the initialize and list rules require.'),
    scopesSupported: scopeList
      .optional()
      .describe('PRM `scopes_supported`. Default: challengeScopes. Never offline_access.'),
  })
  .describe('Policy-wide settings; at most one file may contain them.');

export const policyFileSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Editor hint; ignored.'),
    version: z.literal(1).default(1).describe('Policy format version.'),
    shadow: z.boolean().default(false).describe('Shadow mode for every rule of this file: record "would deny", allow anyway.'),
    settings: policySettingsSchema.optional(),
    scopes: z
      .record(scope, z.string())
      .optional()
      .describe('Catalog of the scopes this server knows, with a description. When present, rules may use only these.'),
    scopeHierarchy: z
      .record(scope, scopeList.min(1))
      .optional()
      .describe('Scope implications: `tickets:write: [tickets:read]` means a token with tickets:write also satisfies tickets:read. Transitive.'),
    tools: z.array(toolRuleSchema).default([]),
    prompts: z.array(promptRuleSchema).default([]),
    resources: z.array(resourceRuleSchema).default([]),
    methods: z.array(methodRuleSchema).default([]),
  })
  .describe('One mcp-auth-gateway policy file.');

export type PolicyFile = z.output<typeof policyFileSchema>;
export type PolicySettings = z.output<typeof policySettingsSchema>;
export type ClaimCondition = z.output<typeof claimConditionSchema>;
export type RuleFields = {
  id?: string | undefined;
  description?: string | undefined;
  scopes?: string[] | undefined;
  anyOf?: string[][] | undefined;
  when?: Record<string, ClaimCondition> | undefined;
  deny?: true | undefined;
  shadow?: boolean | undefined;
};
export type DenyResponse = (typeof DENY_RESPONSES)[number];

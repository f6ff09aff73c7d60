import type { YamlSource } from '../config/index.js';
import { compileCondition } from './claim-conditions.js';
import { CompiledPolicy } from './compiled-policy.js';
import type { PolicyFinding } from './policy-error.js';
import { PolicyError } from './policy-error.js';
import { compileNamePattern, compileUriPattern, PatternError, type CompiledPattern } from './patterns.js';
import type { CompiledRule, RuleKind } from './rule.js';
import { RuleIndex } from './rule-index.js';
import { policySettingsSchema, type PolicyFile, type RuleFields } from './schema.js';
import { ScopeHierarchy } from './scope-hierarchy.js';

/** A parsed and schema-valid policy file, with what is needed to point at its lines. */
export interface LoadedPolicyFile {
  file: string;
  text: string;
  policy: PolicyFile;
  source?: YamlSource;
}

export interface CompileResult {
  policy: CompiledPolicy;
  /** Warnings (errors throw). */
  findings: PolicyFinding[];
}

const SECTIONS = [
  ['tools', 'tool', 'name'],
  ['prompts', 'prompt', 'name'],
  ['resources', 'resource', 'uri'],
  ['methods', 'method', 'method'],
] as const;

/** Client-to-server methods of MCP (2025-03-26 … 2026-07-28), to spot method rules that can never match. */
const KNOWN_METHODS = [
  'initialize', 'ping', 'tools/list', 'tools/call', 'prompts/list', 'prompts/get', 'resources/list',
  'resources/templates/list', 'resources/read', 'resources/subscribe', 'resources/unsubscribe',
  'completion/complete', 'logging/setLevel', 'subscriptions/listen', 'tasks/get', 'tasks/list',
  'tasks/result', 'tasks/cancel', 'notifications/initialized', 'notifications/cancelled',
  'notifications/progress', 'notifications/roots/list_changed', 'notifications/tasks/status',
];

/**
 * Merges policy files (in the order given: file-name order) and compiles them.
 * Errors (conflicts, bad patterns, unknown scopes when a catalog exists) throw
 * a PolicyError with every problem; warnings (shadowed or never-matching rules)
 * are returned for `policy validate` and the log.
 */
export function compilePolicy(files: readonly LoadedPolicyFile[], version: string): CompileResult {
  const findings: PolicyFinding[] = [];
  const at = (file: LoadedPolicyFile, path: PropertyKey[]) => file.source?.locate(path);
  const pathText = (path: PropertyKey[]) => path.map((step) => (typeof step === 'number' ? `[${step}]` : `.${String(step)}`)).join('').slice(1);
  const add = (severity: PolicyFinding['severity'], file: LoadedPolicyFile, path: PropertyKey[], message: string) => {
    findings.push({ severity, location: at(file, path) ?? { file: file.file, line: 1, column: 1 }, path: pathText(path), message });
  };

  // Settings: one owner.
  const settingsFiles = files.filter((file) => file.policy.settings);
  for (const extra of settingsFiles.slice(1)) {
    add('error', extra, ['settings'], `settings are already defined in ${settingsFiles[0]!.file}; only one policy file may hold them`);
  }
  const settings = settingsFiles[0]?.policy.settings ?? policySettingsSchema.parse({});

  // Scope catalog and hierarchy, merged.
  const catalog = new Set<string>();
  let hasCatalog = false;
  const implications = new Map<string, string[]>();
  for (const file of files) {
    if (file.policy.scopes) {
      hasCatalog = true;
      for (const scope of Object.keys(file.policy.scopes)) catalog.add(scope);
    }
    for (const [scope, implied] of Object.entries(file.policy.scopeHierarchy ?? {})) {
      implications.set(scope, [...(implications.get(scope) ?? []), ...implied]);
    }
  }
  const checkScopes = (file: LoadedPolicyFile, path: PropertyKey[], scopes: readonly string[]) => {
    scopes.forEach((scope, index) => {
      if (scope === 'offline_access') add('error', file, [...path, index], 'offline_access must not be required, challenged for or advertised');
      else if (hasCatalog && !catalog.has(scope)) add('error', file, [...path, index], `scope ${scope} is not in the scope catalog (\`scopes:\`); a typo?`);
    });
  };
  for (const file of files) {
    for (const [scope, implied] of Object.entries(file.policy.scopeHierarchy ?? {})) {
      checkScopes(file, ['scopeHierarchy', scope], [scope, ...implied]);
    }
  }

  // Rules, in merged order.
  const entries: Record<RuleKind, Array<{ pattern: CompiledPattern; value: CompiledRule; order: number; file: LoadedPolicyFile; path: PropertyKey[] }>> = {
    tool: [],
    prompt: [],
    resource: [],
    method: [],
  };
  let order = 0;
  for (const file of files) {
    for (const [section, kind, field] of SECTIONS) {
      const rules = file.policy[section] as Array<RuleFields & Record<string, unknown>>;
      rules.forEach((rule, index) => {
        const path: PropertyKey[] = [section, index];
        const patternText = rule[field] as string;
        let pattern: CompiledPattern;
        try {
          pattern = kind === 'resource' ? compileUriPattern(patternText) : compileNamePattern(patternText);
        } catch (error) {
          if (!(error instanceof PatternError)) throw error;
          add('error', file, [...path, field], error.message);
          return;
        }
        checkScopes(file, [...path, 'scopes'], rule.scopes ?? []);
        (rule.anyOf ?? []).forEach((alternative, alternativeIndex) => checkScopes(file, [...path, 'anyOf', alternativeIndex], alternative));
        if (rule.deny && (rule.scopes || rule.anyOf || rule.when)) {
          add('warning', file, [...path, 'deny'], 'deny: true ignores scopes, anyOf and when on the same rule');
        }
        for (const [claim, condition] of Object.entries(rule.when ?? {})) {
          if (condition.in?.length === 0) add('warning', file, [...path, 'when', claim], '`in: []` can never hold: this rule denies everyone');
        }
        if (kind === 'method' && !KNOWN_METHODS.some((method) => pattern.test(method))) {
          add('warning', file, [...path, 'method'], `${patternText} matches no MCP method known to this gateway; a typo?`);
        }
        const location = at(file, path);
        const compiled: CompiledRule = {
          ref: {
            kind,
            pattern: patternText,
            ...(rule.id ? { id: rule.id } : {}),
            file: file.file,
            ...(location ? { line: location.line, column: location.column } : {}),
          },
          pattern,
          deny: rule.deny === true,
          shadow: rule.shadow ?? file.policy.shadow,
          allOf: rule.scopes ?? [],
          anyOf: rule.anyOf,
          conditions: Object.entries(rule.when ?? {}).map(([claim, condition]) => compileCondition(claim, condition)),
          order,
        };
        entries[kind].push({ pattern, value: compiled, order: order++, file, path });
      });
    }
  }

  // Indexes first: they also answer "which earlier rule already matches this one?".
  const byKind = (kind: RuleKind) => new RuleIndex(entries[kind].map(({ pattern, value, order: position }) => ({ pattern, value, order: position })));
  const indexes = { tool: byKind('tool'), prompt: byKind('prompt'), resource: byKind('resource'), method: byKind('method') };

  // Conflicts and shadowing, per kind, in one pass each (policies may have tens of thousands of rules).
  for (const kind of Object.keys(entries) as RuleKind[]) {
    const firstBySource = new Map<string, (typeof entries)[RuleKind][number]>();
    /** Earlier globs of the form `prefix*` / `prefix**`, by prefix: they cover any later pattern starting with the prefix. */
    const prefixGlobs = new Map<string, (typeof entries)[RuleKind][number]>();
    for (const entry of entries[kind]) {
      const source = entry.pattern.source;
      const sameText = firstBySource.get(source);
      if (sameText && sameText.file !== entry.file) {
        add('error', entry.file, [...entry.path], `${kind} ${source} is also claimed by ${sameText.file.file}; one file must own it`);
        continue;
      }
      let shadowing = sameText;
      if (!shadowing && entry.pattern.exact) {
        const first = indexes[kind].find(source);
        if (first && first.order < entry.value.order) shadowing = entries[kind].find((other) => other.value === first);
      }
      if (!shadowing && !entry.pattern.exact) shadowing = findCoveringPrefixGlob(prefixGlobs, entry.pattern);
      if (shadowing) {
        const where = shadowing.value.ref.line ? `${shadowing.file.file}:${shadowing.value.ref.line}` : shadowing.file.file;
        add('warning', entry.file, [...entry.path], `never used: ${kind} ${source} is shadowed by the earlier rule ${shadowing.pattern.source} (${where})`);
      }
      if (!sameText) firstBySource.set(source, entry);
      if (isPrefixGlob(entry.pattern) && !prefixGlobs.has(entry.pattern.literalPrefix)) prefixGlobs.set(entry.pattern.literalPrefix, entry);
    }
  }

  const openMethods = new RuleIndex(settings.openMethods.map((method, position) => ({ pattern: compileNamePattern(method), value: true as const, order: position })));

  // The 401 scope: what initialize and listing need, unless set.
  const derivedChallenge = new Set<string>();
  for (const method of ['initialize', 'tools/list', 'prompts/list', 'resources/list', 'resources/templates/list']) {
    const rule = indexes.method.find(method);
    for (const scope of [...(rule?.allOf ?? []), ...(rule?.anyOf?.[0] ?? [])]) derivedChallenge.add(scope);
  }
  const challengeScopes = settings.challengeScopes ?? [...derivedChallenge];
  const scopesSupported = settings.scopesSupported ?? challengeScopes;
  const settingsFile = settingsFiles[0];
  if (settingsFile) {
    checkScopes(settingsFile, ['settings', 'challengeScopes'], settings.challengeScopes ?? []);
    checkScopes(settingsFile, ['settings', 'scopesSupported'], settings.scopesSupported ?? []);
  }

  const errors = findings.filter((finding) => finding.severity === 'error');
  if (errors.length > 0) throw new PolicyError(findings);

  const policy = new CompiledPolicy({
    version,
    files: files.map((file) => file.file),
    settings,
    hierarchy: new ScopeHierarchy(implications),
    indexes,
    openMethods,
    challengeScopes,
    scopesSupported,
    permissive: settings.unmatched === 'allow' && Object.values(entries).every((list) => list.length === 0),
  });
  return { policy, findings };
}

/** `prefix*` or `prefix**`: a glob whose only wildcard is a trailing star. */
function isPrefixGlob(pattern: CompiledPattern): boolean {
  const rest = pattern.source.slice(pattern.literalPrefix.length);
  return rest === '*' || rest === '**';
}

/**
 * The earliest `prefix*` glob that matches everything `later` matches: its
 * prefix starts `later`'s literal prefix. A single `*` in a URI stops at `/`, so
 * it covers a later pattern only when nothing after the prefix crosses a segment.
 */
function findCoveringPrefixGlob<T extends { pattern: CompiledPattern; value: CompiledRule }>(prefixGlobs: ReadonlyMap<string, T>, later: CompiledPattern): T | undefined {
  let best: T | undefined;
  for (let length = 0; length <= later.literalPrefix.length; length += 1) {
    const candidate = prefixGlobs.get(later.literalPrefix.slice(0, length));
    if (!candidate || (best && best.value.order < candidate.value.order)) continue;
    const singleStar = candidate.pattern.source.endsWith('*') && !candidate.pattern.source.endsWith('**');
    if (singleStar && candidate.value.ref.kind === 'resource' && later.source.slice(length).includes('/')) continue;
    best = candidate;
  }
  return best;
}

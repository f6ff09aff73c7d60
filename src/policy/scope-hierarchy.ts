/**
 * Scope implications declared in policy (`tickets:write: [tickets:read]`).
 * The 2026-07-28 authorization spec requires servers to account for scope
 * hierarchies when deciding whether a token suffices. Resolved once at load
 * into, for each scope, the set of granted scopes that satisfy it, so a
 * decision never expands a token's scopes.
 */
export class ScopeHierarchy {
  readonly #satisfiers = new Map<string, ReadonlySet<string>>();

  /** @param implications scope → scopes it directly implies */
  constructor(implications: ReadonlyMap<string, readonly string[]>) {
    const implied = new Map<string, Set<string>>();
    for (const scope of implications.keys()) implied.set(scope, closure(scope, implications));
    for (const [granted, covers] of implied) {
      for (const scope of covers) {
        const set = new Set(this.#satisfiers.get(scope) ?? [scope]);
        set.add(granted);
        this.#satisfiers.set(scope, set);
      }
    }
  }

  /** Granted scopes that satisfy a requirement for `scope` (itself included). */
  satisfiersOf(scope: string): ReadonlySet<string> {
    return this.#satisfiers.get(scope) ?? new Set([scope]);
  }

  /** True when `granted` satisfies `scope` directly or through an implication. */
  isSatisfied(scope: string, granted: ReadonlySet<string>): boolean {
    if (granted.has(scope)) return true;
    const satisfiers = this.#satisfiers.get(scope);
    if (!satisfiers) return false;
    for (const candidate of satisfiers) if (granted.has(candidate)) return true;
    return false;
  }
}

function closure(start: string, implications: ReadonlyMap<string, readonly string[]>): Set<string> {
  const seen = new Set<string>();
  const pending = [...(implications.get(start) ?? [])];
  while (pending.length > 0) {
    const scope = pending.pop()!;
    if (seen.has(scope) || scope === start) continue;
    seen.add(scope);
    pending.push(...(implications.get(scope) ?? []));
  }
  return seen;
}

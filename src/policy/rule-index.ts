import type { CompiledPattern } from './patterns.js';

interface Entry<T> {
  pattern: CompiledPattern;
  value: T;
  /** Position in the merged policy; the lowest matching position wins. */
  order: number;
}

interface TrieNode<T> {
  children: Map<string, TrieNode<T>>;
  /** Non-exact patterns whose literal prefix ends at this node. */
  patterns: Entry<T>[];
}

/**
 * First-match lookup over ordered rules, built for large policies:
 * - an exact name resolves with one map lookup: the answer (the first rule in
 *   order that matches that name, which may be an earlier glob) is computed at build;
 * - other names walk a trie of the globs' literal prefixes, so only globs that
 *   can match are tested, in rule order.
 */
export class RuleIndex<T> {
  readonly #exact = new Map<string, Entry<T>>();
  readonly #root: TrieNode<T> = { children: new Map(), patterns: [] };

  constructor(entries: ReadonlyArray<Entry<T>>) {
    const globs = entries.filter((entry) => !entry.pattern.exact);
    for (const glob of globs) this.#insert(glob);
    for (const node of this.#nodes()) node.patterns.sort((a, b) => a.order - b.order);
    for (const entry of entries) {
      if (!entry.pattern.exact || this.#exact.has(entry.pattern.source)) continue;
      const earlierGlob = this.#findGlob(entry.pattern.source, entry.order);
      this.#exact.set(entry.pattern.source, earlierGlob ?? entry);
    }
  }

  /** The first rule (in policy order) matching `name`, or undefined. */
  find(name: string): T | undefined {
    return (this.#exact.get(name) ?? this.#findGlob(name, Number.POSITIVE_INFINITY))?.value;
  }

  #findGlob(name: string, beforeOrder: number): Entry<T> | undefined {
    let best: Entry<T> | undefined;
    let node: TrieNode<T> | undefined = this.#root;
    for (let depth = 0; node; depth += 1) {
      for (const entry of node.patterns) {
        if (entry.order >= beforeOrder || (best && entry.order >= best.order)) break;
        if (entry.pattern.test(name)) {
          best = entry;
          break;
        }
      }
      if (depth >= name.length) break;
      node = node.children.get(name[depth]!);
    }
    return best;
  }

  #insert(entry: Entry<T>): void {
    let node = this.#root;
    for (const char of entry.pattern.literalPrefix) {
      let child = node.children.get(char);
      if (!child) {
        child = { children: new Map(), patterns: [] };
        node.children.set(char, child);
      }
      node = child;
    }
    node.patterns.push(entry);
  }

  *#nodes(): Generator<TrieNode<T>> {
    const stack = [this.#root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      yield node;
      stack.push(...node.children.values());
    }
  }
}

import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../log/index.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { computePolicyVersion, parsePolicyFiles, readPolicyFiles } from './load-policy.js';
import { formatFinding, PolicyError } from './policy-error.js';

export interface PolicyStatus {
  /** Version (content hash) of the policy in force. */
  version: string;
  directory: string | undefined;
  loadedAt: string;
  files: readonly string[];
  reloads: number;
  failedReloads: number;
  /** The last reload that failed since the policy in force was loaded: the old policy stays. */
  lastError?: { at: string; message: string };
}

export interface PolicyStoreOptions {
  /** Directory of policy files; absent → every valid token may call everything (permissive policy). */
  directory: string | undefined;
  logger: Logger;
  /** Reload when files change (inotify, including the ConfigMap `..data` symlink swap). */
  watch: boolean;
  /** Also re-read the directory this often, in ms, for filesystems without change events; 0 disables. */
  pollIntervalMs: number;
  /** Wait this long after a change event before reloading, in ms (an editor or kubelet writes several files). */
  debounceMs?: number;
}

/** Without a policy directory: no rules, unmatched → allow. Every valid token may use everything. */
const PERMISSIVE = [{ file: '(built-in permissive policy)', text: 'settings:\n  unmatched: allow\n' }];

/**
 * Holds the policy in force and replaces it atomically. A reload validates and
 * compiles everything first; if anything is wrong the old policy stays in
 * force and the error is kept for `/readyz` and metrics. Readers take
 * `current` once per request, so a request finishes under the policy it started with.
 */
export class PolicyStore {
  #current: CompiledPolicy;
  #status: PolicyStatus;
  #watcher: FSWatcher | undefined;
  #timers = new Set<NodeJS.Timeout>();
  #reloading: Promise<boolean> | undefined;
  #again = false;
  /** Version of the last policy that failed to load: not retried (or logged again) until the files change. */
  #lastFailedVersion: string | undefined;
  readonly #listeners = new Set<(policy: CompiledPolicy) => void>();
  readonly #reloadListeners = new Set<(result: 'success' | 'failure') => void>();

  private constructor(
    private readonly options: PolicyStoreOptions,
    initial: CompiledPolicy,
  ) {
    this.#current = initial;
    this.#status = {
      version: initial.version,
      directory: options.directory,
      loadedAt: new Date().toISOString(),
      files: initial.files,
      reloads: 0,
      failedReloads: 0,
    };
  }

  /**
   * Loads the initial policy. An invalid policy at start-up is fatal (fail closed).
   * @throws PolicyError
   */
  static async create(options: PolicyStoreOptions): Promise<PolicyStore> {
    const files = options.directory ? await readPolicyFiles(options.directory) : PERMISSIVE;
    const { policy, findings } = parsePolicyFiles(files);
    for (const finding of findings) options.logger.warn({ policyFinding: formatFinding(finding) }, 'policy warning');
    if (!options.directory) options.logger.warn('no policy directory configured: every valid token may call every tool');
    return new PolicyStore(options, policy);
  }

  get current(): CompiledPolicy {
    return this.#current;
  }

  get status(): PolicyStatus {
    return { ...this.#status };
  }

  /** Called with the new policy after each successful swap. */
  onChange(listener: (policy: CompiledPolicy) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called after every reload attempt that found a change: success (swapped) or failure (old policy kept). */
  onReload(listener: (result: 'success' | 'failure') => void): () => void {
    this.#reloadListeners.add(listener);
    return () => this.#reloadListeners.delete(listener);
  }

  /** Starts watching (and polling) the directory. */
  start(): void {
    const { directory, watch: shouldWatch, pollIntervalMs } = this.options;
    if (!directory) return;
    if (shouldWatch) {
      try {
        this.#watcher = watch(directory, { persistent: false }, () => this.#scheduleReload('file change'));
        this.#watcher.on('error', (error) => this.options.logger.warn({ err: error }, 'policy directory watch failed; relying on polling'));
      } catch (error) {
        this.options.logger.warn({ err: error }, 'cannot watch the policy directory; relying on polling');
      }
    }
    if (pollIntervalMs > 0) {
      const poll = setInterval(() => void this.reload('poll'), pollIntervalMs);
      poll.unref();
      this.#timers.add(poll);
    }
  }

  stop(): void {
    this.#watcher?.close();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /**
   * Re-reads the directory and swaps the policy if it changed and is valid.
   * Concurrent calls collapse: one reload runs, and one more follows if
   * something asked while it ran. Resolves true when a new policy is in force.
   */
  reload(reason: string): Promise<boolean> {
    if (!this.options.directory) return Promise.resolve(false);
    if (this.#reloading) {
      this.#again = true;
      return this.#reloading;
    }
    this.#reloading = this.#reloadOnce(reason).finally(() => {
      this.#reloading = undefined;
      if (this.#again) {
        this.#again = false;
        void this.reload(reason);
      }
    });
    return this.#reloading;
  }

  async #reloadOnce(reason: string): Promise<boolean> {
    const { logger } = this.options;
    try {
      const files = await readPolicyFiles(this.options.directory!);
      const version = computePolicyVersion(files);
      if (version === this.#current.version || version === this.#lastFailedVersion) return false;
      this.#lastFailedVersion = version;
      const { policy, findings } = parsePolicyFiles(files);
      this.#lastFailedVersion = undefined;
      for (const finding of findings) logger.warn({ policyFinding: formatFinding(finding) }, 'policy warning');
      const previous = this.#current.version;
      this.#current = policy;
      this.#status = {
        ...this.#status,
        version: policy.version,
        loadedAt: new Date().toISOString(),
        files: policy.files,
        reloads: this.#status.reloads + 1,
      };
      delete this.#status.lastError;
      logger.info({ reason, previousVersion: previous, version: policy.version }, 'policy reloaded');
      for (const listener of this.#listeners) listener(policy);
      for (const listener of this.#reloadListeners) listener('success');
      return true;
    } catch (error) {
      const message = error instanceof PolicyError ? error.message : (error as Error).message;
      this.#status = {
        ...this.#status,
        failedReloads: this.#status.failedReloads + 1,
        lastError: { at: new Date().toISOString(), message },
      };
      logger.error({ reason, version: this.#current.version, error: message }, 'policy reload failed; the previous policy stays in force');
      for (const listener of this.#reloadListeners) listener('failure');
      return false;
    }
  }

  #scheduleReload(reason: string): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.reload(reason);
    }, this.options.debounceMs ?? 150);
    timer.unref();
    this.#timers.add(timer);
  }
}

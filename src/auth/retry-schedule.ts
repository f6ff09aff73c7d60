/**
 * Timers of a component that starts in the background and retries (JWKS, introspection
 * endpoint): unref'd so they never keep the process alive, all cancelled by `stop()`.
 */
export class RetrySchedule {
  #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Runs `task` after `delayMs`, unless stopped by then. */
  schedule(task: () => Promise<void>, delayMs: number): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void task();
    }, delayMs);
    timer.unref();
    this.#timers.add(timer);
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

/** Start-up retry delay: 0.5 s doubling per attempt, at most 30 s. */
export function startupRetryDelayMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** attempt);
}

/** A fetch failure in a few words for logs (never a URL's query or a body): `timeout`, `ECONNREFUSED`… */
export function describeFetchError(error: unknown): string {
  if ((error as Error).name === 'TimeoutError') return 'timeout';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

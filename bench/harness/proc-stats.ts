/**
 * What /proc says about the benchmark's processes and the machine (Linux
 * only; elsewhere these return undefined and the report leaves the columns empty).
 */
import { readFileSync, writeFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;

function readStatus(pid: number, field: string): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size now, in bytes. */
export const readRssBytes = (pid: number) => readStatus(pid, 'VmRSS');
/** Peak resident set size since start or since the last `resetPeakRss`, in bytes. */
export const readPeakRssBytes = (pid: number) => readStatus(pid, 'VmHWM');

/** Starts a new peak-RSS window (proc(5): writing 5 to clear_refs resets VmHWM). */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** CPU time (user + system) a process used so far, in seconds. */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU time of this process's finished (reaped) children, in seconds: the load generators. */
function readReapedChildrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND;
}

/** Busy CPU time of the whole machine (every CPU, everything but idle and iowait), in seconds. */
function readMachineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '))!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS_PER_SECOND;
}

export interface CpuWindow {
  /** CPU used per server pid during the window, as a share of one CPU. */
  perServer: Record<number, number>;
  /**
   * CPU the rest of the machine used meanwhile (other people's builds and tests), as a share of
   * one CPU: machine busy time minus the servers, the harness and its finished clients.
   * Above ~0.1 the sample measured the neighbours as much as the target.
   */
  others: number;
  seconds: number;
}

/** Starts measuring CPU use; call the returned function when the run ends (after its client was reaped). */
export function startCpuWindow(serverPids: readonly number[]): () => CpuWindow | undefined {
  try {
    const started = performance.now();
    const machine = readMachineBusySeconds();
    const reaped = readReapedChildrenCpuSeconds();
    const self = readCpuSeconds(process.pid) ?? 0;
    const servers = serverPids.map((pid) => readCpuSeconds(pid) ?? 0);
    return () => {
      const seconds = (performance.now() - started) / 1000;
      const perServer: Record<number, number> = {};
      let ours = readReapedChildrenCpuSeconds() - reaped + (readCpuSeconds(process.pid) ?? 0) - self;
      serverPids.forEach((pid, index) => {
        const used = (readCpuSeconds(pid) ?? 0) - servers[index]!;
        perServer[pid] = used / seconds;
        ours += used;
      });
      return { perServer, others: Math.max(0, (readMachineBusySeconds() - machine - ours) / seconds), seconds };
    };
  } catch {
    return () => undefined;
  }
}

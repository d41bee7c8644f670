import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

// What the bench reads from /proc: CPU time and RSS of the node processes, the limits
// that bound the idle-connection scenario, and the machine it ran on.

let clockTicks: number | undefined;

// utime and stime in /proc/<pid>/stat count clock ticks (USER_HZ, 100 nearly everywhere).
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface CpuTimes {
  userSeconds: number;
  /** In the kernel on the process's behalf: for a relay, mostly socket reads and writes. */
  systemSeconds: number;
}

/** CPU time a process has used so far (utime and stime of /proc/<pid>/stat). */
export function cpuTimes(pid: number): CpuTimes {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { userSeconds: Number(fields[11]) / ticksPerSecond(), systemSeconds: Number(fields[12]) / ticksPerSecond() };
}

export function cpuSeconds(pid: number): number {
  const { userSeconds, systemSeconds } = cpuTimes(pid);
  return userSeconds + systemSeconds;
}

/**
 * CPU time all processes of the machine have used so far (/proc/stat: user, nice,
 * system, steal). Less what the bench's own processes used, it shows whether something
 * else ran during a measurement. Interrupt and softirq time (where the kernel does much
 * of the loopback TCP work) belong to no process and are left out of both sides.
 */
export function machineBusySeconds(): number {
  const [, ...ticks] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const [user = 0, nice = 0, system = 0, , , , , steal = 0] = ticks.map(Number);
  return (user + nice + system + steal) / ticksPerSecond();
}

/**
 * Starts measuring what everything but `pids` uses of the machine; the function returned
 * gives it since then, in % of one core (as `other %cpu` of the fan-out table). A figure
 * measured while other work ran says so. A process that is gone by then counts with the
 * CPU it had used at the last call: call it (and ignore the figure) right before killing one.
 */
export function otherCpuMeter(pids: number[]): () => number {
  const lastRead = new Map<number, number>();
  const busy = () =>
    pids.reduce((sum, pid) => {
      try {
        lastRead.set(pid, cpuSeconds(pid));
      } catch {
        // Exited and reaped: /proc/<pid> is gone.
      }
      return sum + (lastRead.get(pid) ?? 0);
    }, 0);
  const machineAtStart = machineBusySeconds();
  const ownAtStart = busy();
  const startedAt = performance.now();
  return () => {
    const seconds = (performance.now() - startedAt) / 1000;
    const other = machineBusySeconds() - machineAtStart - (busy() - ownAtStart);
    return seconds > 0 ? Math.max(0, (other / seconds) * 100) : 0;
  };
}

/** Resident set size of a process, in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** The limit on open files of this process; node raises the soft limit to the hard one at startup. */
export function openFileLimit(): { soft: number; hard: number } {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const parse = (value: string | undefined) =>
    value === 'unlimited' || value === undefined ? Infinity : Number(value);
  return { soft: parse(match?.[1]), hard: parse(match?.[2]) };
}

/** Ports the kernel picks client source ports from; every loopback connection takes one. */
export function ephemeralPortRange(): { low: number; high: number } {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  return { low: low ?? 0, high: high ?? 0 };
}

export interface MachineInfo {
  cpuCount: number;
  cpuModel: string;
  nodeVersion: string;
}

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) cpuModel = match[1].trim();
  } catch {
    // Not Linux: os.cpus() is good enough.
  }
  return { cpuCount: availableParallelism(), cpuModel, nodeVersion: process.version };
}

import { readFileSync } from 'node:fs';

/** VmHWM (peak resident set size) and VmRSS of a process, in bytes, from /proc/<pid>/status. */
export function memoryOf(pid: number): { peakRssBytes: number; rssBytes: number } | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { peakRssBytes: kb('VmHWM'), rssBytes: kb('VmRSS') };
}

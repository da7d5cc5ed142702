/**
 * Hot spots of a V8 CPU profile (`node --cpu-prof`): self time by function and by file, so a
 * missed target can be traced to its cause without a GUI.
 *
 *   npx tsx bench/src/cpuprofile-summary.ts <file.cpuprofile> [top=25] [filter]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function names(frame: ProfileNode['callFrame']): { fn: string; file: string } {
  const url = frame.url ? frame.url.replace(/^file:\/\//, '') : '(native)';
  const file = url.includes('node_modules/')
    ? url.slice(url.lastIndexOf('node_modules/') + 13)
    : url.startsWith('/')
      ? path.relative(process.cwd(), url)
      : url;
  return { fn: `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`, file };
}

/** Self time (the function itself) and total time (with its callees) per function, in µs. */
export function profileTimes(profile: Profile): {
  byFunction: Map<string, number>;
  byFile: Map<string, number>;
  totalByFunction: Map<string, number>;
  totalUs: number;
} {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const totalByFunction = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const self = names(nodes.get(id)!.callFrame);
    byFunction.set(self.fn, (byFunction.get(self.fn) ?? 0) + us);
    byFile.set(self.file, (byFile.get(self.file) ?? 0) + us);
    totalUs += us;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { fn } = names(nodes.get(at)!.callFrame);
      if (seen.has(fn)) continue;
      seen.add(fn);
      totalByFunction.set(fn, (totalByFunction.get(fn) ?? 0) + us);
    }
  });
  return { byFunction, byFile, totalByFunction, totalUs };
}

function top(map: Map<string, number>, n: number, totalUs: number, filter?: string): string[] {
  return [...map.entries()]
    .filter(([k]) => !filter || k.includes(filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, us]) =>
        `${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
    );
}

if (require.main === module) {
  const [file, n = '25', filter] = process.argv.slice(2);
  if (!file) {
    console.error('usage: cpuprofile-summary <file.cpuprofile> [top] [filter]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const { byFunction, byFile, totalByFunction, totalUs } = profileTimes(profile);
  console.log(`total sampled ${(totalUs / 1000).toFixed(0)} ms\n\nself time by function:`);
  console.log(top(byFunction, Number(n), totalUs, filter).join('\n'));
  console.log('\ntotal time (with callees) by function:');
  console.log(top(totalByFunction, Number(n), totalUs, filter).join('\n'));
  console.log('\nself time by file:');
  console.log(top(byFile, Number(n), totalUs, filter).join('\n'));
}

/**
 * `npm run audit [-- --sample N]`: one pass of every service's staleness auditor over a bounded
 * sample (default 100 ids per namespace), printed as a table: sampled, fresh, stale and orphan
 * entries per service and namespace. Exits 1 when any entry is stale or orphaned, 0 otherwise.
 * Reads `GET /admin/cache-audit` of the running stack (CATALOG_URL, USER_URL, ORDER_URL, default
 * 127.0.0.1:3001-3003) with an admin token: AUDIT_TOKEN, else one signed with the running
 * `npm run stack`'s development keys (as `npm run token -- --admin` makes).
 */
import { bearer, readAuthKeys } from '../libs/testing/src';
import { DEFAULT_PORTS, runningStackAuthDir, SERVICES } from './stack';

interface Report {
  namespace: string;
  checked: number;
  sampled: number;
  fresh: number;
  stale: number;
  orphan: number;
  unversioned: number;
  staleIds: string[];
  orphanIds: string[];
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const sampleAt = args.indexOf('--sample');
  const sample = sampleAt >= 0 ? Number(args[sampleAt + 1]) : 100;
  if (!Number.isInteger(sample) || sample < 1 || sample > 1000) {
    console.error('usage: npm run audit [-- --sample N]   (1 <= N <= 1000)');
    return 2;
  }
  const token =
    process.env['AUDIT_TOKEN'] ?? (await (await readAuthKeys(runningStackAuthDir())).adminToken());
  const rows: Array<[string, Report]> = [];
  let unreachable = 0;
  for (const service of SERVICES) {
    const base = process.env[`${service.toUpperCase()}_URL`] ?? `http://127.0.0.1:${DEFAULT_PORTS[service]}`;
    try {
      const response = await fetch(`${base}/admin/cache-audit?sample=${sample}`, {
        headers: bearer(token),
        signal: AbortSignal.timeout(60_000),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as { reports: Report[] };
      for (const report of body.reports) rows.push([service, report]);
    } catch (err) {
      unreachable += 1;
      console.error(`${service} (${base}): ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const header = ['service', 'namespace', 'sampled', 'fresh', 'stale', 'orphan', 'unversioned'];
  const table = rows.map(([service, r]) => [
    service,
    r.namespace,
    String(r.sampled),
    String(r.fresh),
    String(r.stale),
    String(r.orphan),
    String(r.unversioned),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const row of table) console.log(line(row));
  const bad = rows.filter(([, r]) => r.stale + r.orphan > 0);
  for (const [service, r] of bad) {
    console.log(
      `${service} ${r.namespace}: stale ids [${r.staleIds.join(', ')}], orphan ids [${r.orphanIds.join(', ')}]`,
    );
  }
  if (bad.length > 0) return 1;
  return unreachable > 0 ? 3 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`audit: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

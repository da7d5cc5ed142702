import type { Stack } from '../../../scripts/stack';
import { startCatalogVariants } from '../catalog-variant';
import { scrapeMetrics, untilHit } from '../http-probe';
import { runInterleavedRounds, type InterleavedRoundsOptions } from '../interleaved-rounds';
import type { LoadGenerator } from '../load-client';
import { sumOf } from '../prometheus';
import { pairedRatios, summarize, type Summary } from '../stats';

export interface AuditorCostResult {
  /** Hit req/s with the auditor every `auditIntervalMs` ÷ with it off, per round. */
  onOverOff: Summary;
  /** A second auditor-off process ÷ the first, per round: the noise the ratio above sits in. */
  offOverOff: Summary;
  requestsPerSecond: Record<AuditVariant, Summary>;
  p99Ms: Record<AuditVariant, Summary>;
  auditIntervalMs: number;
  auditSampleSize: number;
  /** Entries the auditing process compared during the case (proof it audited; 0 on the others). */
  auditedEntries: Record<AuditVariant, number>;
  xCache: Record<AuditVariant, Record<string, number>>;
}

export type AuditVariant = 'off' | 'off-again' | 'audit';

export interface AuditorCostOptions extends InterleavedRoundsOptions {
  productId: number;
  /** Every product id: cached before the rounds, so each audit pass finds entries to compare. */
  allIds: readonly number[];
  logDir: string;
}

/** Aggressive on purpose: 150 passes in a 30 s window instead of the default one. */
export const AUDIT_INTERVAL_MS = 200;
export const AUDIT_SAMPLE_SIZE = 20;

/**
 * What the staleness auditor costs the hit path: three catalog processes side by side on the
 * same stack, two with the auditor off (CACHE_AUDIT_SAMPLE_SIZE=0) and one auditing every
 * 200 ms, each taking the P1 load (cached GET /products/:id) in rotating order. The two "off"
 * processes differ in nothing, so their ratio is the noise floor of the comparison.
 */
export async function runAuditorCost(
  load: LoadGenerator,
  stack: Stack,
  opts: AuditorCostOptions,
): Promise<AuditorCostResult> {
  const off = { CACHE_AUDIT_SAMPLE_SIZE: '0' };
  const variants = await startCatalogVariants(
    stack,
    [
      { name: 'audit-off', env: off },
      { name: 'audit-off-again', env: off },
      {
        name: 'audit-200ms',
        env: {
          CACHE_AUDIT_SAMPLE_SIZE: String(AUDIT_SAMPLE_SIZE),
          CACHE_AUDIT_INTERVAL_MS: String(AUDIT_INTERVAL_MS),
        },
      },
    ],
    opts.logDir,
  );
  try {
    const [a, b, c] = variants.processes.map((p) => `${p.url}/products/${opts.productId}`);
    await prewarm(new URL(a!).origin, opts.allIds);
    for (const url of [a!, b!, c!]) await untilHit(url);
    const results = await runInterleavedRounds<AuditVariant>(
      load,
      { off: { url: a! }, 'off-again': { url: b! }, audit: { url: c! } },
      opts,
    );
    const rps = (v: AuditVariant) => results[v].map((r) => r.requestsPerSecond);
    const per = <T>(f: (v: AuditVariant) => T): Record<AuditVariant, T> => ({
      off: f('off'),
      'off-again': f('off-again'),
      audit: f('audit'),
    });
    const sumXCache = (v: AuditVariant) => {
      const out: Record<string, number> = {};
      for (const r of results[v]) for (const [k, n] of Object.entries(r.xCache)) out[k] = (out[k] ?? 0) + n;
      return out;
    };
    const audited = async (adminUrl: string) =>
      sumOf(await scrapeMetrics(adminUrl), 'memshop_cache_audit_entries_total');
    const [auditedA, auditedB, auditedC] = await Promise.all(
      variants.processes.map((p) => audited(p.adminUrl)),
    );
    if (auditedC === 0) throw new Error('auditor cost: the auditing process compared no entries');
    return {
      onOverOff: summarize(pairedRatios(rps('audit'), rps('off'))),
      offOverOff: summarize(pairedRatios(rps('off-again'), rps('off'))),
      requestsPerSecond: per((v) => summarize(rps(v))),
      p99Ms: per((v) => summarize(results[v].map((r) => r.latencyMs.p99))),
      auditIntervalMs: AUDIT_INTERVAL_MS,
      auditSampleSize: AUDIT_SAMPLE_SIZE,
      auditedEntries: { off: auditedA!, 'off-again': auditedB!, audit: auditedC! },
      xCache: per(sumXCache),
    };
  } finally {
    await variants.stop();
  }
}

async function prewarm(baseUrl: string, ids: readonly number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 50) {
    const response = await fetch(`${baseUrl}/products?ids=${ids.slice(i, i + 50).join(',')}`);
    if (!response.ok) throw new Error(`auditor cost: prewarm answered ${response.status}`);
    await response.arrayBuffer();
  }
}

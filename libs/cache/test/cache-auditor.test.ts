import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { startMemcachedCluster, waitFor, type MemcachedCluster } from '@memshop/testing';
import { Cache } from '../src/cache-aside.js';
import { CacheAuditor, type AuditSource } from '../src/cache-auditor.js';
import { CacheCluster } from '../src/cluster.js';
import { createPromCacheMetrics } from '../src/metrics.js';

jest.setTimeout(60_000);

let memcached: MemcachedCluster;
let cluster: CacheCluster;
let cache: Cache;

beforeAll(async () => {
  memcached = await startMemcachedCluster(2);
  cluster = new CacheCluster({ servers: memcached.servers });
  cache = new Cache({ cluster });
});

afterAll(async () => {
  await cache?.close();
  await cluster?.close();
  await memcached?.stop();
});

interface Row {
  id: string;
  version: number;
}

/** A table in memory standing in for a service's repository (the auditor only sees the interface). */
function tableSource(namespace: string, rows: Map<string, Row>, extraIds: string[] = []) {
  const prefix = `audit:${randomUUID()}:`;
  const source: AuditSource = {
    namespace,
    sampleIds: async (count) => [...rows.keys(), ...extraIds].slice(0, count),
    keyOf: (id) => `${prefix}${id}`,
    loadVersions: async (ids) =>
      new Map(ids.filter((id) => rows.has(id)).map((id) => [id, rows.get(id)!.version])),
  };
  const populate = (row: Row | null, id: string) =>
    cache.getOrLoad<Row>(source.keyOf(id), async () => row, {
      entity: namespace,
      versionOf: (r) => r.version,
    });
  return { source, populate };
}

async function counts(registry: Registry): Promise<Record<string, number>> {
  const values = (await registry.getSingleMetric('cache_audit_entries_total')?.get())?.values ?? [];
  return Object.fromEntries(values.map((v) => [`${v.labels.namespace}:${v.labels.result}`, v.value]));
}

describe('CacheAuditor against real memcached', () => {
  it('counts fresh, stale (older version or a cached miss of an existing row) and orphan entries', async () => {
    const rows = new Map<string, Row>(['1', '2', '3', '4', '5'].map((id) => [id, { id, version: 1 }]));
    const { source, populate } = tableSource('thing', rows, ['gone']);
    for (const id of ['1', '2', '3']) await populate(rows.get(id)!, id);
    await populate(null, '4'); // cached "not found"; the row is created behind the cache's back
    await populate({ id: 'gone', version: 1 }, 'gone'); // a row deleted without its purge
    await cache.drain();
    rows.set('2', { id: '2', version: 2 }); // updated without an invalidation

    const registry = new Registry();
    const auditor = new CacheAuditor({
      cache,
      sources: [source],
      graceMs: 0,
      metrics: createPromCacheMetrics(registry),
    });
    const [report] = await auditor.auditOnce();
    expect(report).toEqual({
      namespace: 'thing',
      checked: 6,
      sampled: 5,
      fresh: 2,
      stale: 2,
      orphan: 1,
      unversioned: 0,
      staleIds: ['2', '4'],
      orphanIds: ['gone'],
    });
    expect(await counts(registry)).toEqual({ 'thing:fresh': 2, 'thing:stale': 2, 'thing:orphan': 1 });
  });

  it('compares copies without versions field by field with the current value', async () => {
    const prefix = `audit-copy:${randomUUID()}:`;
    const current = new Map<string, unknown>([
      ['1', { id: 1, name: 'same', priceCents: 10, version: 9 }],
      ['2', { id: 2, name: 'renamed', priceCents: 20, version: 4 }],
    ]);
    await cache.writeThrough(`${prefix}1`, { id: 1, name: 'same', priceCents: 10 }, { version: 1 });
    await cache.writeThrough(`${prefix}2`, { id: 2, name: 'old name', priceCents: 20 }, { version: 1 });
    await cache.writeThrough(`${prefix}3`, { id: 3, name: 'deleted', priceCents: 30 }, { version: 1 });
    const auditor = new CacheAuditor({
      cache,
      graceMs: 0,
      sources: [
        {
          namespace: 'copy',
          keyOf: (id) => `${prefix}${id}`,
          sampleIds: async () => ['1', '2', '3'],
          loadValues: async (ids) =>
            new Map(ids.filter((id) => current.has(id)).map((id) => [id, current.get(id)])),
        },
      ],
    });
    const [report] = await auditor.auditOnce();
    expect(report).toMatchObject({
      sampled: 3,
      fresh: 1,
      stale: 1,
      orphan: 1,
      staleIds: ['2'],
      orphanIds: ['3'],
    });
  });

  it('does not count an entry whose invalidation lands within the grace window', async () => {
    const rows = new Map<string, Row>([['1', { id: '1', version: 1 }]]);
    const { source, populate } = tableSource('inflight', rows);
    await populate(rows.get('1')!, '1');
    await cache.drain();
    rows.set('1', { id: '1', version: 2 });
    let purged = false;
    // The "event" lands after the auditor's first look (it peeks entries, then loads versions)
    // and before its second: awaited here, not left to a timer racing the grace window.
    const slowSource: AuditSource = {
      ...source,
      loadVersions: async (ids) => {
        const versions = await source.loadVersions!(ids);
        if (!purged) {
          purged = true;
          await cache.invalidate(source.keyOf('1'));
        }
        return versions;
      },
    };
    const auditor = new CacheAuditor({ cache, sources: [slowSource], graceMs: 50 });
    const [report] = await auditor.auditOnce();
    expect(report).toMatchObject({ checked: 1, sampled: 0, stale: 0 });
  });

  it('stop() aborts a pass waiting out its grace window instead of waiting for it', async () => {
    const rows = new Map<string, Row>([['1', { id: '1', version: 1 }]]);
    const { source, populate } = tableSource('stopping', rows);
    await populate(rows.get('1')!, '1');
    await cache.drain();
    rows.set('1', { id: '1', version: 2 }); // changed behind the cache's back: a suspect
    const registry = new Registry();
    const signals: AbortSignal[] = [];
    let judged!: () => void;
    const firstJudgement = new Promise<void>((resolve) => (judged = resolve));
    const watched: AuditSource = {
      ...source,
      loadVersions: async (ids, signal) => {
        if (signal) signals.push(signal);
        const versions = await source.loadVersions!(ids);
        judged();
        return versions;
      },
    };
    // An hour of grace: a stop() that waited it out would run into the test's timeout.
    const auditor = new CacheAuditor({
      cache,
      sources: [watched],
      intervalMs: 10,
      graceMs: 3_600_000,
      metrics: createPromCacheMetrics(registry),
    });
    auditor.start();
    await firstJudgement; // the entry is a suspect: the pass now sleeps through its grace window
    await auditor.stop();
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toMatchObject({ name: 'AbortError' });
    // Aborted passes record nothing and the second look never happened.
    expect(await counts(registry)).toEqual({});
  });

  it('auditOnce() rejects with the caller’s abort and the sources see the same signal', async () => {
    const rows = new Map<string, Row>([['1', { id: '1', version: 1 }]]);
    const { source } = tableSource('caller-abort', rows);
    const seen: AbortSignal[] = [];
    const controller = new AbortController();
    const hanging: AuditSource = {
      ...source,
      sampleIds: (_count, signal) => {
        if (signal) seen.push(signal);
        controller.abort();
        return new Promise<string[]>(() => undefined); // a source read that never answers
      },
    };
    const auditor = new CacheAuditor({ cache, sources: [hanging] });
    await expect(auditor.auditOnce(5, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(seen[0]?.aborted).toBe(true);
  });

  it('reports an entry planted behind the system’s back within one sampling period', async () => {
    const rows = new Map<string, Row>([['7', { id: '7', version: 3 }]]);
    const { source } = tableSource('planted', rows);
    const registry = new Registry();
    const auditor = new CacheAuditor({
      cache,
      sources: [source],
      intervalMs: 200,
      graceMs: 50,
      metrics: createPromCacheMetrics(registry),
    });
    // Planted after the auditor started: the next pass (one period later) must find it.
    auditor.start();
    try {
      await cache.writeThrough(source.keyOf('7'), { id: '7', version: 2 }, { version: 2 });
      await waitFor(async () => ((await counts(registry))['planted:stale'] ?? 0) >= 1, {
        message: 'the planted entry reported',
        timeoutMs: 5000,
      });
    } finally {
      await auditor.stop();
    }
  });
});

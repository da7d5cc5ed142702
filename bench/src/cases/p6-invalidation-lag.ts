import { bearer, type AuthKeys } from '../../../libs/testing/src';
import { CacheCluster, keySpace } from '../../../libs/cache/src';
import memjs from 'memjs';
import pg from 'pg';
import { expectStatus, scrapeMetrics, sleep, untilHit } from '../http-probe';
import { bucketQuantile, diffBuckets, histogramBuckets } from '../prometheus';
import { quantile, summarize, type Summary } from '../stats';

export interface InvalidationLagResult {
  /**
   * The commit (stamped by Postgres while it commits the write) to the moment order-service's
   * copy is gone from memcached.
   */
  p50Ms: Summary;
  p99Ms: Summary;
  maxMs: number;
  /**
   * The same from the event's `occurredAt` (stamped by catalog before its outbox INSERT, so it
   * adds the writer's own time to its COMMIT): how P6 was measured before the commit stamp.
   */
  fromEventStampP50Ms: number;
  fromEventStampP99Ms: number;
  /**
   * The purge relative to the PATCH response reaching the bench: negative when order-service's
   * copy was gone before the writer's answer arrived (usual under load, where that answer waits
   * for a turn of catalog's busy event loop).
   */
  fromResponseP50Ms: number;
  fromResponseP99Ms: number;
  /** order-service's own memshop_invalidation_lag_seconds over the run, as bucket upper bounds. */
  serviceHistogramP50Ms: number | null;
  serviceHistogramP99Ms: number | null;
  updates: number;
  /** Updates whose purge was not seen within the timeout. */
  timeouts: number;
  pollIntervalMs: number;
}

const nowWallMs = () => performance.timeOrigin + performance.now();
const POLL_INTERVAL_MS = 1;
const PURGE_TIMEOUT_MS = 5_000;

/**
 * When `key` was first seen absent (wall-clock ms), or undefined if it was still there at
 * `deadline` or the watch was stopped.
 */
async function watchUntilGone(
  client: memjs.Client,
  key: string,
  deadline: number,
  stop: AbortSignal,
): Promise<number | undefined> {
  while (nowWallMs() < deadline && !stop.aborted) {
    if (!(await client.get(key)).value) return nowWallMs();
    await sleep(POLL_INTERVAL_MS);
  }
  return undefined;
}

const COMMIT_STAMPS = 'bench_commit_stamps';

/**
 * Stamps each outbox row's commit in a table of the bench's own: a deferred constraint trigger
 * runs while Postgres commits the transaction, just before the commit becomes visible, so the
 * stamp is at most the commit's last step (its WAL flush) early and the lag is not
 * under-estimated. Removed again by the returned function.
 */
async function stampCommits(db: pg.Client): Promise<() => Promise<void>> {
  await db.query(`
    CREATE TABLE IF NOT EXISTS ${COMMIT_STAMPS} (event_id uuid PRIMARY KEY, committed_at timestamptz NOT NULL);
    CREATE OR REPLACE FUNCTION ${COMMIT_STAMPS}_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO ${COMMIT_STAMPS} VALUES (NEW.event_id, clock_timestamp()); RETURN NULL; END $$;
    DROP TRIGGER IF EXISTS ${COMMIT_STAMPS} ON memshop_outbox;
    CREATE CONSTRAINT TRIGGER ${COMMIT_STAMPS} AFTER INSERT ON memshop_outbox
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${COMMIT_STAMPS}_insert();`);
  return async () => {
    await db.query(`
      DROP TRIGGER IF EXISTS ${COMMIT_STAMPS} ON memshop_outbox;
      DROP FUNCTION IF EXISTS ${COMMIT_STAMPS}_insert();
      DROP TABLE IF EXISTS ${COMMIT_STAMPS};`);
  };
}

/**
 * P6, measured from outside the services. For each update: make sure order-service holds its
 * copy of the product (GET an order containing it until X-Cache: hit), then, from just before
 * the PATCH of the product on catalog is sent, poll the memcached node that owns order-service's
 * key (`order:product:v1:<id>`) every millisecond until the key is gone. The commit time is
 * stamped by Postgres while it commits (`stampCommits`); the event's own `occurredAt`, taken by
 * catalog before its outbox INSERT, gives the figure as it was measured before that stamp.
 */
export async function runInvalidationLag(opts: {
  catalogUrl: string;
  orderUrl: string;
  /** order's admin port: /metrics. */
  orderAdminUrl: string;
  memcachedServers: string[];
  catalogDatabaseUrl: string;
  /** An existing user and the products to update (one order is placed per product). */
  userId: number;
  /** Mints the user's token (orders) and an admin's (the PATCHes). */
  auth: AuthKeys;
  productIds: number[];
  updates: number;
  schemaVersion?: number;
}): Promise<InvalidationLagResult> {
  const catalogDb = new pg.Client({ connectionString: opts.catalogDatabaseUrl });
  await catalogDb.connect();
  const ring = new CacheCluster({ servers: opts.memcachedServers });
  const clients = new Map<string, memjs.Client>();
  let unstampCommits: (() => Promise<void>) | undefined;
  try {
    unstampCommits = await stampCommits(catalogDb);
    // The order seed is empty by design (orders are placed through the API), so place a few.
    const asUser = bearer(await opts.auth.userToken(opts.userId, { expiresInSeconds: 3600 }));
    const asAdmin = bearer(await opts.auth.adminToken(1, { expiresInSeconds: 3600 }));
    const pairs: Array<{ orderId: number; productId: number }> = [];
    for (const productId of opts.productIds) {
      const placed = await expectStatus(`${opts.orderUrl}/orders`, 201, {
        method: 'POST',
        headers: asUser,
        body: { userId: opts.userId, items: [{ productId, quantity: 1 }] },
      });
      pairs.push({ orderId: (placed.body as { id: number }).id, productId });
    }
    const orderKeys = keySpace({
      prefix: 'order',
      entity: 'product',
      schemaVersion: opts.schemaVersion ?? 1,
    });
    const clientFor = (server: string) => {
      let client = clients.get(server);
      if (!client) {
        client = memjs.Client.create(server, { retries: 0, logger: { log: () => {} } });
        clients.set(server, client);
      }
      return client;
    };

    const metricsBefore = await scrapeMetrics(opts.orderAdminUrl);
    const fromCommit: number[] = [];
    const fromEventStamp: number[] = [];
    const fromResponse: number[] = [];
    let timeouts = 0;
    for (let i = 0; i < opts.updates; i++) {
      const pair = pairs[i % pairs.length]!;
      const key = orderKeys.key(String(pair.productId));
      const client = clientFor(ring.nodeFor(key));
      await untilHit(`${opts.orderUrl}/orders/${pair.orderId}`, asUser);
      if (!(await client.get(key)).value)
        throw new Error(`P6: ${key} not in memcached after an order read hit`);

      // Watched from before the PATCH is sent: under load the response can reach the bench after
      // order-service's purge did, and a watch started at the response would time the response.
      const stopWatch = new AbortController();
      const watch = watchUntilGone(client, key, nowWallMs() + PURGE_TIMEOUT_MS, stopWatch.signal);
      watch.catch(() => undefined); // handled here while the PATCH runs; awaited (and thrown) below
      let patched: Awaited<ReturnType<typeof expectStatus>>;
      try {
        patched = await expectStatus(`${opts.catalogUrl}/products/${pair.productId}`, 200, {
          method: 'PATCH',
          headers: asAdmin,
          body: { priceCents: 1000 + (i % 500) },
        });
      } catch (err) {
        // Stopped before the clients close, so no poll outlives the case.
        stopWatch.abort();
        await watch.catch(() => undefined);
        throw err;
      }
      const respondedAt = nowWallMs();
      const version = (patched.body as { version: number }).version;
      const purgedAt = await watch;
      if (purgedAt === undefined) {
        // A purge that never came counts as infinitely late, so it shows in the p99.
        timeouts++;
        fromCommit.push(Infinity);
        fromEventStamp.push(Infinity);
        fromResponse.push(Infinity);
        continue;
      }
      const { rows } = await catalogDb.query<{ occurred_at: string; committed_at: number }>(
        `SELECT o.payload->>'occurredAt' AS occurred_at,
                (extract(epoch FROM s.committed_at) * 1000)::float8 AS committed_at
           FROM memshop_outbox o JOIN ${COMMIT_STAMPS} s USING (event_id)
          WHERE o.routing_key = 'catalog.product.updated' AND o.payload->>'entityId' = $1
            AND (o.payload->>'version')::int = $2`,
        [String(pair.productId), version],
      );
      if (!rows[0])
        throw new Error(`P6: no stamped outbox row for product ${pair.productId} version ${version}`);
      const occurredAt = Date.parse(rows[0].occurred_at);
      // Gone before the write was stamped: something other than this write's purge removed it,
      // so the run cannot be trusted.
      if (purgedAt < occurredAt) throw new Error(`P6: ${key} was gone before version ${version} was written`);
      fromCommit.push(purgedAt - rows[0].committed_at);
      fromEventStamp.push(purgedAt - occurredAt);
      fromResponse.push(purgedAt - respondedAt);
    }
    const metricsAfter = await scrapeMetrics(opts.orderAdminUrl);
    const lagBuckets = diffBuckets(
      histogramBuckets(metricsBefore, 'memshop_invalidation_lag_seconds', { entity: 'product' }),
      histogramBuckets(metricsAfter, 'memshop_invalidation_lag_seconds', { entity: 'product' }),
    );
    const toMs = (s: number | null) => (s === null ? null : s * 1000);
    return {
      p50Ms: summarize([quantile(fromCommit, 0.5)]),
      p99Ms: summarize([quantile(fromCommit, 0.99)]),
      maxMs: Math.max(...fromCommit),
      fromEventStampP50Ms: quantile(fromEventStamp, 0.5),
      fromEventStampP99Ms: quantile(fromEventStamp, 0.99),
      fromResponseP50Ms: quantile(fromResponse, 0.5),
      fromResponseP99Ms: quantile(fromResponse, 0.99),
      serviceHistogramP50Ms: toMs(bucketQuantile(lagBuckets, 0.5)),
      serviceHistogramP99Ms: toMs(bucketQuantile(lagBuckets, 0.99)),
      updates: opts.updates,
      timeouts,
      pollIntervalMs: POLL_INTERVAL_MS,
    };
  } finally {
    for (const client of clients.values()) client.close();
    await ring.close();
    await unstampCommits?.().catch(() => undefined);
    await catalogDb.end();
  }
}

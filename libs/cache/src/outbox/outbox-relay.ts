import { InvalidationBusUnavailableError } from '../errors.js';
import { decodeInvalidationEvent, type InvalidationEvent } from '../invalidation-event.js';
import { errorFields, silentLogger, type LoggerLike, RateLimitedLogger } from '../logger.js';
import { noopCacheMetrics, type CacheMetrics } from '../metrics.js';
import { CacheTracing } from '../tracing.js';
import { checkedTableName, DEFAULT_OUTBOX_TABLE } from './outbox-table.js';
import type { SqlExecutor } from './sql-executor.js';

export interface OutboxPublisher {
  publish(event: InvalidationEvent): Promise<void>;
}

export interface OutboxRelayOptions {
  db: SqlExecutor;
  /** The outbox table (`outboxTableSql(table)` creates it). Default 'cache_outbox'. */
  table?: string;
  /** Usually the InvalidationBus; must resolve only once the broker confirmed. */
  publisher: OutboxPublisher;
  /** Poll for pending rows this often (rows of crashed or other writers). Default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * false: no poll and no round at start; the relay publishes what it is given (`kick(events)`,
   * or an explicit `kick()`), beside another relay on the same table that polls. Default true.
   */
  poll?: boolean;
  /**
   * The poll leaves rows younger than this to their writer, which publishes them itself
   * (`kick(events)`), usually right after fixing its own cache entry. Published by the poll before
   * that fix, a consumer that purges its copy and refetches from the writer's service can cache
   * the old value again (unless it keeps its copies behind `VersionFloors`), and the writer's own
   * publish is then dropped as a duplicate. Explicit rounds (`kick()`,
   * `publishPending()`, `start()`) take every row. Default 1000 ms.
   */
  pollGraceMs?: number;
  /** Rows claimed per round. Default 100. */
  batchSize?: number;
  /**
   * A claimed row is invisible to other relays this long: if this relay dies mid-publish, the
   * row is published again by someone else afterwards (at-least-once). Default 30 s.
   */
  claimTimeoutSeconds?: number;
  /** Retry backoff after a failed publish: base * 2^(attempts-1), capped. Defaults 1 s and 60 s. */
  retryBaseSeconds?: number;
  retryMaxSeconds?: number;
  /** Published rows are deleted after this long (kept for debugging). Default 3600 s. */
  retainPublishedSeconds?: number;
  /**
   * Failed publishes of one row before it is parked: kept in the table with its error, no longer
   * claimed, counted in `outbox_parked`, listed and replayed by the operator. Failures
   * while the bus is not connected do not count (an outage must not park rows). Default 10
   * (with the default backoff, about 8 minutes of failing).
   */
  maxAttempts?: number;
  logger?: LoggerLike;
  metrics?: CacheMetrics;
  /** node:diagnostics_channel name of each round is `<prefix>:outbox.relay`. Default 'cache'. */
  diagnosticsChannelPrefix?: string;
  clock?: () => number;
}

interface ClaimedRow {
  event_id: string;
  payload: unknown;
  attempts: number;
}

/** A parked row, as `parked()` lists it. */
export interface ParkedOutboxRow {
  eventId: string;
  routingKey: string;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
}

/**
 * Parked rows stay pending (`published_at` null) with `next_attempt_at` at +infinity: no claim
 * ever reaches them, and the table needs no extra column (so services keep their migrations).
 */
const PARKED = `'infinity'::timestamptz`;

/** The payload could not be decoded into an event: retrying the same bytes will not help. */
class UndecodableOutboxRowError extends Error {
  override readonly name = 'UndecodableOutboxRowError';
}

/**
 * Publishes outbox rows. Several instances may run against one database: rows are claimed with
 * `FOR UPDATE SKIP LOCKED` in a single statement that also pushes `next_attempt_at` out by the
 * claim timeout, so no long transaction is held while waiting for the broker.
 */
export class OutboxRelay {
  readonly #db: SqlExecutor;
  readonly #table: string;
  readonly #tracing: CacheTracing;
  readonly #publisher: OutboxPublisher;
  readonly #pollIntervalMs: number;
  readonly #poll: boolean;
  readonly #pollGraceMs: number;
  readonly #batchSize: number;
  readonly #claimTimeoutSeconds: number;
  readonly #retryBaseSeconds: number;
  readonly #retryMaxSeconds: number;
  readonly #retainPublishedSeconds: number;
  readonly #maxAttempts: number;
  readonly #log: RateLimitedLogger;
  readonly #metrics: CacheMetrics;
  readonly #clock: () => number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  readonly #direct = new Set<Promise<void>>();
  #again = false;
  #stopped = true;
  #consecutiveFailures = 0;
  #lastCleanupAt = 0;

  constructor(opts: OutboxRelayOptions) {
    this.#db = opts.db;
    this.#table = checkedTableName(opts.table ?? DEFAULT_OUTBOX_TABLE);
    this.#tracing = new CacheTracing({ channelPrefix: opts.diagnosticsChannelPrefix });
    this.#publisher = opts.publisher;
    this.#pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.#poll = opts.poll ?? true;
    this.#pollGraceMs = Math.max(0, opts.pollGraceMs ?? 1000);
    this.#batchSize = opts.batchSize ?? 100;
    this.#claimTimeoutSeconds = opts.claimTimeoutSeconds ?? 30;
    this.#retryBaseSeconds = opts.retryBaseSeconds ?? 1;
    this.#retryMaxSeconds = opts.retryMaxSeconds ?? 60;
    this.#retainPublishedSeconds = opts.retainPublishedSeconds ?? 3600;
    this.#maxAttempts = Math.max(1, opts.maxAttempts ?? 10);
    this.#log = new RateLimitedLogger(opts.logger ?? silentLogger, { clock: opts.clock });
    this.#metrics = opts.metrics ?? noopCacheMetrics;
    this.#clock = opts.clock ?? Date.now;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    if (this.#poll) this.kick();
  }

  /**
   * Publish now: call right after the transaction that enqueued events commits. Given those
   * events (what `enqueueOutboxEvent` returned), they are published at once and then marked
   * published, without reading them back from the table first: the claim query is a database
   * round trip on the path from commit to purge. Rows the direct publish could not deliver stay
   * pending for the poll (with the same backoff); a poll that claims a row between its commit
   * and its mark publishes it twice, which consumers absorb (at-least-once, deduplicated by id).
   * Without events, runs a claim round now.
   */
  kick(events?: readonly InvalidationEvent[]): void {
    if (this.#stopped) return;
    if (events !== undefined && events.length > 0) {
      this.#trackDirect(this.#publishDirect(events));
      return;
    }
    this.#round(0);
  }

  /** One claim round over rows at least `minAgeMs` old, then the next poll is scheduled. */
  #round(minAgeMs: number): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#clearTimer();
    this.#running = this.#loop(minAgeMs).finally(() => {
      this.#running = null;
      if (this.#stopped) return;
      if (this.#again) {
        this.#again = false;
        this.kick();
        return;
      }
      if (!this.#poll) return;
      // Back off polling while the database keeps failing (up to 30 s).
      const delay = Math.min(30_000, this.#pollIntervalMs * 2 ** Math.min(this.#consecutiveFailures, 5));
      this.#timer = setTimeout(() => this.#round(this.#pollGraceMs), delay);
      this.#timer.unref();
    });
  }

  /** Stops polling and waits for the round and the direct publishes in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearTimer();
    await this.#running;
    await Promise.all([...this.#direct]);
  }

  async #publishDirect(events: readonly InvalidationEvent[]): Promise<void> {
    const results = await Promise.allSettled(events.map((event) => this.#publisher.publish(event)));
    const ok: string[] = [];
    results.forEach((result, i) => {
      const event = events[i] as InvalidationEvent;
      if (result.status === 'fulfilled') ok.push(event.id);
      else
        this.#log.warn(
          'outbox-publish',
          { eventId: event.id, ...errorFields(result.reason) },
          'outbox publish failed, the poll will retry',
        );
    });
    try {
      if (ok.length > 0) await this.#markPublished(ok);
    } catch (err) {
      // Published but not marked: the poll publishes them again (at-least-once).
      this.#log.warn('outbox-mark', errorFields(err), 'outbox rows published but not marked');
    }
    this.#tracing.publish('outbox', { published: ok.length, failed: events.length - ok.length });
  }

  #trackDirect(promise: Promise<void>): void {
    const tracked = promise.catch((err) =>
      this.#log.warn('outbox-relay', errorFields(err), 'outbox direct publish failed'),
    );
    this.#direct.add(tracked);
    void tracked.finally(() => this.#direct.delete(tracked));
  }

  /**
   * One pass: claims and publishes batches until none is left. Returns how many were published.
   * Exposed for tests and for services that prefer to drive the relay themselves.
   */
  async publishPending(minAgeMs = 0): Promise<{ published: number; failed: number }> {
    let published = 0;
    let failed = 0;
    for (;;) {
      const rows = await this.#claim(minAgeMs);
      if (rows.length === 0) break;
      // Each row on its own: one that does not decode fails alone, the others are published.
      const results = await Promise.allSettled(
        rows.map(async (row) => this.#publisher.publish(decodePayload(row.payload))),
      );
      const ok: string[] = [];
      for (let i = 0; i < rows.length; i += 1) {
        const result = results[i] as PromiseSettledResult<void>;
        const row = rows[i] as ClaimedRow;
        if (result.status === 'fulfilled') {
          ok.push(row.event_id);
        } else {
          failed += 1;
          await this.#recordFailure(row, result.reason);
        }
      }
      if (ok.length > 0) await this.#markPublished(ok);
      published += ok.length;
      this.#tracing.publish('outbox', { published: ok.length, failed: rows.length - ok.length });
      // Stop on failures: the broker is likely down, the rows come back after their backoff.
      if (ok.length < rows.length || rows.length < this.#batchSize) break;
    }
    return { published, failed };
  }

  /**
   * Pending rows (parked ones excluded) and the age of the oldest one, and the parked rows;
   * also sets the backlog and parked gauges.
   */
  async backlog(): Promise<{ count: number; oldestAgeSeconds: number; parked: number }> {
    const [row] = await this.#db.query<{
      count: number | string;
      oldest: number | string | null;
      parked: number | string;
    }>(
      `SELECT count(*) FILTER (WHERE "next_attempt_at" <> ${PARKED})::int AS "count",
              EXTRACT(EPOCH FROM (now() - min("created_at") FILTER (WHERE "next_attempt_at" <> ${PARKED})))::float8 AS "oldest",
              count(*) FILTER (WHERE "next_attempt_at" = ${PARKED})::int AS "parked"
         FROM "${this.#table}" WHERE "published_at" IS NULL`,
      [],
    );
    const count = Number(row?.count ?? 0);
    const oldestAgeSeconds = row?.oldest == null ? 0 : Number(row.oldest);
    const parked = Number(row?.parked ?? 0);
    this.#metrics.setOutboxBacklog(count);
    this.#metrics.setOutboxOldestAge(oldestAgeSeconds);
    this.#metrics.setOutboxParked(parked);
    return { count, oldestAgeSeconds, parked };
  }

  /** Parked rows, oldest first (at most `limit`). */
  async parked(limit = 100): Promise<ParkedOutboxRow[]> {
    const rows = await this.#db.query<{
      event_id: string;
      routing_key: string;
      attempts: number;
      last_error: string | null;
      created_at: Date;
    }>(
      `SELECT "event_id"::text AS "event_id", "routing_key", "attempts", "last_error", "created_at"
         FROM "${this.#table}" WHERE "published_at" IS NULL AND "next_attempt_at" = ${PARKED}
        ORDER BY "seq" LIMIT $1::int`,
      [limit],
    );
    return rows.map((r) => ({
      eventId: r.event_id,
      routingKey: r.routing_key,
      attempts: Number(r.attempts),
      lastError: r.last_error,
      createdAt: new Date(r.created_at),
    }));
  }

  /** Puts parked rows back in the queue with a fresh attempt budget; returns how many. */
  async replayParked(): Promise<number> {
    const count = await this.#db.execute(
      `UPDATE "${this.#table}" SET "next_attempt_at" = now(), "attempts" = 0
        WHERE "published_at" IS NULL AND "next_attempt_at" = ${PARKED}`,
      [],
    );
    this.kick();
    return count;
  }

  async #loop(minAgeMs: number): Promise<void> {
    try {
      await this.publishPending(minAgeMs);
      this.#consecutiveFailures = 0;
      // A kick that came in meanwhile has rows waiting: they go first, the bookkeeping can wait.
      if (this.#again) return;
      await this.backlog();
      await this.#cleanup();
    } catch (err) {
      this.#consecutiveFailures += 1;
      this.#log.warn('outbox-relay', errorFields(err), 'outbox relay round failed, retrying');
    }
  }

  #claim(minAgeMs: number): Promise<ClaimedRow[]> {
    return this.#db.query<ClaimedRow>(
      `UPDATE "${this.#table}" SET "next_attempt_at" = now() + make_interval(secs => $2::float8)
        WHERE "seq" IN (
          SELECT "seq" FROM "${this.#table}"
           WHERE "published_at" IS NULL AND "next_attempt_at" <= now()
             AND "created_at" <= now() - make_interval(secs => $3::float8)
           ORDER BY "seq" LIMIT $1::int
           FOR UPDATE SKIP LOCKED)
        RETURNING "event_id"::text AS "event_id", "payload", "attempts"`,
      [this.#batchSize, this.#claimTimeoutSeconds, minAgeMs / 1000],
    );
  }

  async #markPublished(eventIds: string[]): Promise<void> {
    const placeholders = eventIds.map((_, i) => `$${i + 1}::uuid`).join(', ');
    await this.#db.execute(
      `UPDATE "${this.#table}" SET "published_at" = now(), "last_error" = NULL
        WHERE "event_id" IN (${placeholders}) AND "published_at" IS NULL`,
      eventIds,
    );
  }

  /**
   * Records a failed publish of one row: its error, and (unless the bus was merely not
   * connected) one more attempt, with exponential backoff; at `maxAttempts` the row is parked.
   */
  async #recordFailure(row: ClaimedRow, reason: unknown): Promise<void> {
    const message = (reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)).slice(
      0,
      1000,
    );
    const counts = !(reason instanceof InvalidationBusUnavailableError);
    const attempts = Number(row.attempts) + (counts ? 1 : 0);
    if (attempts >= this.#maxAttempts) {
      this.#log.error(
        'outbox-parked',
        { eventId: row.event_id, attempts, ...errorFields(reason) },
        'outbox row parked after too many failed publishes',
      );
      await this.#db.execute(
        `UPDATE "${this.#table}" SET "last_error" = $2, "attempts" = $3::int, "next_attempt_at" = ${PARKED}
          WHERE "event_id" = $1::uuid AND "published_at" IS NULL`,
        [row.event_id, message, attempts],
      );
      return;
    }
    this.#log.warn(
      'outbox-publish',
      { eventId: row.event_id, attempts, ...errorFields(reason) },
      'outbox publish failed, will retry',
    );
    await this.#db.execute(
      `UPDATE "${this.#table}"
          SET "last_error" = $2, "attempts" = $5::int,
              "next_attempt_at" = now() + make_interval(secs => LEAST($4::float8, $3::float8 * power(2, GREATEST($5::int - 1, 0))))
        WHERE "event_id" = $1::uuid AND "published_at" IS NULL`,
      [row.event_id, message, this.#retryBaseSeconds, this.#retryMaxSeconds, attempts],
    );
  }

  async #cleanup(): Promise<void> {
    const now = this.#clock();
    if (now - this.#lastCleanupAt < 60_000) return;
    this.#lastCleanupAt = now;
    await this.#db.execute(
      `DELETE FROM "${this.#table}" WHERE "published_at" < now() - make_interval(secs => $1::float8)`,
      [this.#retainPublishedSeconds],
    );
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/** The stored event; jsonb arrives parsed from Prisma and pg, as text from other drivers. */
function decodePayload(payload: unknown): InvalidationEvent {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload ?? null);
  const decoded = decodeInvalidationEvent(Buffer.from(text, 'utf8'));
  if (!decoded.ok) throw new UndecodableOutboxRowError(`outbox payload is not an event: ${decoded.reason}`);
  return decoded.event;
}

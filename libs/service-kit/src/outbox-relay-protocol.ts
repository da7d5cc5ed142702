import type { CacheMetrics } from '@memshop/cache';
import type { ThreadSpan } from './thread-tracing';

/** What a service gives its outbox relay thread (cache-runtime.ts builds it from the config). */
export interface OutboxRelayThreadSettings {
  service: string;
  logLevel: string;
  databaseUrl: string;
  rabbitmqUrl: string;
  namePrefix: string;
  exchange: string;
  table: string;
  channel: string;
  diagnosticsChannelPrefix: string;
}

/** Marks the worker data of this thread, so the worker script runs only in a thread started for it. */
export const OUTBOX_RELAY_ROLE = 'memshop-outbox-relay';

/** What the thread is started with. */
export interface OutboxRelayWorkerData extends OutboxRelayThreadSettings {
  role: typeof OUTBOX_RELAY_ROLE;
  /** The service records traces: the thread's spans are posted to it (thread-tracing.ts). */
  tracing: boolean;
  /**
   * Shared with the main thread, which reads it without waiting for its own event loop: [0] is
   * the last moment (`process.hrtime.bigint()`, one monotonic clock for every thread) the thread
   * confirmed it was publishing at commit, 0 when it is not.
   */
  publishingConfirmedAt: BigInt64Array;
}

/**
 * Messages the thread posts: its cache metrics, spans and diagnostics_channel messages (publish
 * and outbox rounds), recorded and republished in the main thread as the service's own; closed.
 */
export type OutboxRelayWorkerMessage =
  | { type: 'metric'; name: keyof CacheMetrics; args: unknown[] }
  | { type: 'spans'; spans: ThreadSpan[] }
  | { type: 'diagnostics'; channel: string; message: unknown }
  | { type: 'closed' };

/** How often the thread renews its stamp; the main thread trusts a stamp 4 times as long. */
export const PUBLISHING_STAMP_INTERVAL_MS = 250;

import type { LoggerLike } from './logger.js';
import type { CacheMetrics } from './metrics.js';
import type { CacheItem } from './transport/node-pool.js';
import type { CacheTlsOptions } from './transport/tls-socket.js';

export type { CacheItem, CacheTlsOptions };

export interface CacheClusterOptions {
  /** 'host:port' strings, identical in every service (they are hashed onto the ring verbatim). */
  servers: string[];
  /**
   * A small pool that takes the keys of ejected nodes (Facebook's gutter pool, about 1% of the
   * servers). Default: none, so those keys go to the next live node on the ring.
   */
  gutterServers?: string[];
  /**
   * TTL cap of anything written for an ejected node's keys, in the gutter or on another node:
   * such entries can miss invalidations (deletes go wherever the key routes at that moment), so
   * they must not live long. Default 10.
   */
  gutterTtlSeconds?: number;
  /** Connections per node. Default 2: one slow response does not hold up everything else. */
  poolSize?: number;
  /** Per operation; a LAN round trip is well under 1 ms, so 150 ms means the node is in trouble. Default 150. */
  opTimeoutMs?: number;
  /** Opening a connection (plus SASL). Default 500. */
  connectTimeoutMs?: number;
  /**
   * The longest an entry lives in memcached (its TTL: fresh + grace, jitter included). A ring
   * change (setNodes) is remembered this long: until then an entry stored before it may still be
   * served from a node that owns its key again, so a moved key's older entries are reloaded.
   * Cache's defaults give entries at most 930 s (300 s + 10 % jitter, 600 s grace). Default 3600.
   */
  maxEntryLifeSeconds?: number;
  /** Consecutive transport failures (timeouts, refused/reset connections) before ejection. Default 3. */
  ejectAfterFailures?: number;
  /** How often an ejected node is probed with VERSION. Default 1000. */
  probeIntervalMs?: number;
  /** Flush a node before it rejoins: it missed the deletes sent while it was out. Default true. */
  flushOnRejoin?: boolean;
  /** Values larger than this are not sent (set/add return false/null). memcached's default item limit is 1 MiB. Default 1_000_000. */
  maxValueBytes?: number;
  /** SASL PLAIN credentials (memcached started with -S). Default: none. */
  username?: string;
  password?: string;
  /**
   * TLS to every node, servers and gutter alike (memcached 1.6 started with `-Z`): the CA that
   * signed their certificates, and a client certificate where the nodes require one. A node
   * whose certificate does not verify fails like a refused connection (ejected, requests go to
   * the loader). Default: none, plain TCP.
   */
  tls?: CacheTlsOptions;
  logger?: LoggerLike;
  metrics?: CacheMetrics;
  /** Wall clock (epoch ms) for `ejectedAt` in status(). Default Date.now. */
  clock?: () => number;
}

export interface CacheNodeStatus {
  server: string;
  state: 'up' | 'ejected';
  consecutiveFailures: number;
  /** 'gutter' for gutterServers. */
  role: 'primary' | 'gutter';
  /** Epoch ms of the ejection, while ejected. */
  ejectedAt?: number;
  /** Socket writes to this node so far (one per operation, one per getMany batch). */
  writes: number;
}

export interface GetManyResult {
  found: Map<string, CacheItem>;
  /** Keys whose node failed or could not be reached: unknown, not missing. */
  failed: Set<string>;
}

export interface SetOptions {
  /** Compare-and-swap: store only if the item's CAS still equals this. */
  cas?: bigint;
  flags?: number;
}

export interface SetManyEntry {
  key: string;
  value: Buffer;
  ttlSeconds: number;
  /** Compare-and-swap: stored only if the item's CAS still equals this. */
  cas?: bigint;
  flags?: number;
}

export type SetManyResult = 'stored' | 'not_stored' | 'failed';

export interface IncrOptions {
  /** Value a missing counter is created with (the delta is not applied to it, as in memcached). Default 0n. */
  initial?: bigint;
  /** TTL of a counter created by this call. Default 0 (no expiry; capped when routed to the gutter). */
  ttlSeconds?: number;
}

/** Where a key goes right now. `capped`: its owner is ejected, TTLs are capped at gutterTtlSeconds. */
export interface CacheRoute {
  server: string;
  capped: boolean;
}

import { performance } from 'node:perf_hooks';
import { DEFAULT_MAX_VALUE_BYTES } from './transport/binary-protocol.js';
import { type CacheError, CacheKeyError, CacheProtocolError, CacheUnavailableError } from './errors.js';
import { KetamaRing } from './hash-ring.js';
import { isValidMemcachedKey } from './keys.js';
import { errorFields, type LoggerLike, RateLimitedLogger, silentLogger } from './logger.js';
import { type CacheMetrics, noopCacheMetrics } from './metrics.js';
import { RingChanges } from './ring-changes.js';
import type {
  CacheClusterOptions,
  CacheNodeStatus,
  CacheRoute,
  GetManyResult,
  IncrOptions,
  SetManyEntry,
  SetManyResult,
  SetOptions,
} from './cluster-options.js';
import { type CacheItem, NodePool, type NodePoolOptions, type StoreItem } from './transport/node-pool.js';

interface CacheNode {
  readonly pool: NodePool;
  readonly role: 'primary' | 'gutter';
  /** taken off the ring by setNodes: its late failures no longer eject anything */
  retired: boolean;
  consecutiveFailures: number;
  ejectedAt: number | undefined;
  probeTimer: NodeJS.Timeout | undefined;
  probing: boolean;
}

interface Target {
  node: CacheNode;
  capped: boolean;
}

/**
 * memcached nodes on a ketama ring, with a small memjs connection pool per node, per-operation
 * timeouts, ejection of failing nodes and a gutter for their keys (Nishtala et al., "Scaling
 * Memcache at Facebook", NSDI 2013, section 3.3). Every method either answers or throws a
 * CacheError; the cache-aside layer turns those into misses.
 */
export class CacheCluster {
  #ring: KetamaRing;
  readonly #gutterRing: KetamaRing | undefined;
  readonly #nodes = new Map<string, CacheNode>();
  readonly #gutterTtlSeconds: number;
  readonly #ejectAfterFailures: number;
  readonly #probeIntervalMs: number;
  readonly #opTimeoutMs: number;
  readonly #retireAfterMs: number;
  readonly #ringChanges: RingChanges;
  readonly #flushOnRejoin: boolean;
  readonly #maxValueBytes: number;
  readonly #logger: LoggerLike;
  readonly #log: RateLimitedLogger;
  readonly #metrics: CacheMetrics;
  readonly #clock: () => number;
  readonly #poolOptions: Omit<NodePoolOptions, 'server' | 'onFailure' | 'onSuccess'>;
  readonly #retiring = new Set<Promise<void>>();
  #closed = false;

  constructor(opts: CacheClusterOptions) {
    if (opts.servers.length === 0) throw new TypeError('CacheCluster needs at least one server');
    const gutterServers = opts.gutterServers ?? [];
    const all = [...opts.servers, ...gutterServers];
    if (new Set(all).size !== all.length) {
      throw new TypeError('CacheCluster servers and gutterServers must be distinct');
    }
    this.#gutterTtlSeconds = positive(opts.gutterTtlSeconds, 10);
    this.#ejectAfterFailures = Math.max(1, Math.floor(opts.ejectAfterFailures ?? 3));
    this.#probeIntervalMs = positive(opts.probeIntervalMs, 1000);
    this.#opTimeoutMs = positive(opts.opTimeoutMs, 150);
    this.#flushOnRejoin = opts.flushOnRejoin ?? true;
    this.#maxValueBytes = positive(opts.maxValueBytes, DEFAULT_MAX_VALUE_BYTES);
    this.#logger = opts.logger ?? silentLogger;
    this.#log = new RateLimitedLogger(this.#logger, { clock: opts.clock });
    this.#metrics = opts.metrics ?? noopCacheMetrics;
    this.#clock = opts.clock ?? Date.now;
    this.#ringChanges = new RingChanges({
      windowMs: positive(opts.maxEntryLifeSeconds, 3600) * 1000,
      clock: this.#clock,
    });

    this.#poolOptions = {
      poolSize: Math.max(1, Math.floor(opts.poolSize ?? 2)),
      opTimeoutMs: this.#opTimeoutMs,
      connectTimeoutMs: positive(opts.connectTimeoutMs, 500),
      username: opts.username,
      password: opts.password,
      tls: opts.tls,
    };
    // The longest an operation already handed to a pool can still take: one waiting on a link
    // that is still connecting gets the connect timeout first, then its own op timeout.
    this.#retireAfterMs = this.#poolOptions.connectTimeoutMs + this.#opTimeoutMs;
    for (const server of opts.servers) this.#addNode(server, 'primary');
    for (const server of gutterServers) this.#addNode(server, 'gutter');
    this.#ring = new KetamaRing(opts.servers);
    this.#gutterRing = gutterServers.length > 0 ? new KetamaRing(gutterServers) : undefined;
  }

  get maxValueBytes(): number {
    return this.#maxValueBytes;
  }

  async get(key: string): Promise<CacheItem | null> {
    // #run inlined: this is every cache hit's path, one closure and async frame less.
    const pool = this.#target(key).node.pool;
    const started = performance.now();
    try {
      return await pool.get(key);
    } finally {
      this.#metrics.observeOperation(pool.server, 'get', (performance.now() - started) / 1000);
    }
  }

  /**
   * One pipelined round per node (GETKQ per key + NOOP, one write). A failing node fails only its
   * own keys (`failed`); throws CacheUnavailableError only when no key could be sent anywhere.
   */
  async getMany(keys: readonly string[]): Promise<GetManyResult> {
    const found = new Map<string, CacheItem>();
    const failed = new Set<string>();
    const groups = new Map<CacheNode, string[]>();
    for (const key of new Set(keys)) {
      let target: Target;
      try {
        target = this.#target(key);
      } catch (error) {
        if (error instanceof CacheUnavailableError) {
          failed.add(key);
          continue;
        }
        throw error;
      }
      const group = groups.get(target.node);
      if (group) group.push(key);
      else groups.set(target.node, [key]);
    }
    if (groups.size === 0 && failed.size > 0) {
      throw new CacheUnavailableError(`no memcached node is available for ${failed.size} keys`);
    }
    await Promise.all(
      [...groups].map(async ([node, group]) => {
        try {
          const items = await this.#run({ node, capped: false }, 'getMany', (pool) => pool.getMany(group));
          for (const [key, item] of items) found.set(key, item);
        } catch (error) {
          this.#warn('getMany', node, error);
          for (const key of group) failed.add(key);
        }
      }),
    );
    return { found, failed };
  }

  /** false when not stored: CAS mismatch, CAS given and the item is gone, or the value is over maxValueBytes. */
  async set(key: string, value: Buffer, ttlSeconds: number, opts: SetOptions = {}): Promise<boolean> {
    const target = this.#target(key);
    if (value.length > this.#maxValueBytes) return false;
    const ttl = this.#ttl(target, ttlSeconds);
    const cas = await this.#run(target, 'set', (pool) =>
      pool.store('set', key, value, ttl, opts.flags ?? 0, opts.cas),
    );
    return cas !== null;
  }

  /**
   * Many sets, one pipelined round per node (SETQ per entry + NOOP, one write). Per entry, in
   * order: 'stored', 'not_stored' (CAS mismatch, item gone, too large) or 'failed' (its node
   * failed or no node could take it). Never throws for a failing node: only its entries fail.
   */
  async setMany(entries: readonly SetManyEntry[]): Promise<SetManyResult[]> {
    const results = new Array<SetManyResult>(entries.length).fill('failed');
    const groups = new Map<CacheNode, { items: StoreItem[]; indexes: number[] }>();
    entries.forEach((entry, index) => {
      let target: Target;
      try {
        target = this.#target(entry.key);
      } catch (error) {
        if (error instanceof CacheUnavailableError) return;
        throw error;
      }
      if (entry.value.length > this.#maxValueBytes) {
        results[index] = 'not_stored';
        return;
      }
      let group = groups.get(target.node);
      if (!group) {
        group = { items: [], indexes: [] };
        groups.set(target.node, group);
      }
      group.items.push({
        key: entry.key,
        value: entry.value,
        ttlSeconds: this.#ttl(target, entry.ttlSeconds),
        flags: entry.flags ?? 0,
        cas: entry.cas,
      });
      group.indexes.push(index);
    });
    await Promise.all(
      [...groups].map(async ([node, { items, indexes }]) => {
        try {
          const stored = await this.#run({ node, capped: false }, 'setMany', (pool) => pool.storeMany(items));
          stored.forEach((ok, i) => (results[indexes[i] as number] = ok ? 'stored' : 'not_stored'));
        } catch (error) {
          this.#warn('setMany', node, error);
        }
      }),
    );
    return results;
  }

  /** Stores only if the key is absent. Returns the new item's CAS (for a later CAS set), null if it exists or is too large. */
  async add(
    key: string,
    value: Buffer,
    ttlSeconds: number,
    opts: { flags?: number } = {},
  ): Promise<bigint | null> {
    const target = this.#target(key);
    if (value.length > this.#maxValueBytes) return null;
    const ttl = this.#ttl(target, ttlSeconds);
    return this.#run(target, 'add', (pool) => pool.store('add', key, value, ttl, opts.flags ?? 0));
  }

  /** false when the key was not there. An ejected node's keys are deleted where they route meanwhile. */
  async delete(key: string): Promise<boolean> {
    const target = this.#target(key);
    return this.#run(target, 'delete', (pool) => pool.delete(key));
  }

  /**
   * Atomic add (a negative delta subtracts; memcached stops at 0). A missing counter is created
   * holding `initial`. Counters are unsigned 64-bit.
   */
  async incr(key: string, delta: number | bigint, opts: IncrOptions = {}): Promise<bigint> {
    const target = this.#target(key);
    const ttl = this.#ttl(target, opts.ttlSeconds ?? 0);
    const value = await this.#run(target, 'incr', (pool) =>
      pool.incr(key, BigInt(delta), opts.initial ?? 0n, ttl),
    );
    if (value === null) {
      throw new CacheProtocolError(`memcached ${target.node.pool.server} did not create counter`, {
        node: target.node.pool.server,
        status: 1,
      });
    }
    return value;
  }

  /**
   * Atomic add to a counter that exists; null when it does not (memcached's NOT_FOUND), so the
   * caller can create it with `add` and a TTL of its own choosing, as counter stores written for
   * the text protocol's `incr` expect.
   */
  async incrIfPresent(key: string, delta: number | bigint): Promise<bigint | null> {
    const target = this.#target(key);
    return this.#run(target, 'incr', (pool) => pool.incr(key, BigInt(delta), 0n));
  }

  /** The node that owns `key` on the ring (whether or not it is ejected right now). */
  nodeFor(key: string): string {
    return this.#ring.nodeFor(key);
  }

  /** Where `key` goes right now; null when no node can take it. */
  routeFor(key: string): CacheRoute | null {
    try {
      const target = this.#target(key);
      return { server: target.node.pool.server, capped: target.capped };
    } catch (error) {
      if (error instanceof CacheUnavailableError) return null;
      throw error;
    }
  }

  /**
   * The latest ring change (setNodes) within `maxEntryLifeSeconds` that gave `key` another owner;
   * undefined when none did. Its current owner may hold a copy stored before that change which
   * missed every write and delete sent meanwhile to the key's other owner (a node removed and
   * added back, or a ring that grew and shrank again), so Cache does not trust entries stored
   * before it: they are reloaded once, under the key's lease.
   */
  ownerChangedAt(key: string): number | undefined {
    return this.#ringChanges.ownerChangedAt(key);
  }

  /** The servers on the ring now (the constructor's `servers`, or the last setNodes list). */
  get servers(): readonly string[] {
    return this.#ring.servers;
  }

  /**
   * Changes ring membership at runtime: new servers get pools, the ring is rebuilt (ketama, so
   * about 1/N of the keys move per node added or removed), and removed servers leave it at once.
   * A moved key's new owner may be empty for it (a miss) or may still hold a copy from when it
   * owned the key before (a node added back, a ring shrunk back): that copy missed the writes and
   * deletes sent elsewhere meanwhile, so the change is remembered (ownerChangedAt) and Cache reloads
   * a moved key's entries stored before it. A removed server's pool is closed after the connect
   * plus op timeout, the longest an operation already handed to it can still take, so no caller
   * sees "cluster closed" from a membership change. Gutter servers are not affected.
   */
  setNodes(servers: readonly string[]): { added: string[]; removed: string[] } {
    if (this.#closed) throw new CacheUnavailableError('cache cluster is closed');
    if (servers.length === 0) throw new TypeError('CacheCluster needs at least one server');
    const next = new Set(servers);
    if (next.size !== servers.length) throw new TypeError('CacheCluster servers must be distinct');
    for (const server of servers) {
      if (this.#nodes.get(server)?.role === 'gutter') {
        throw new TypeError(`${server} is a gutter server; servers and gutterServers must be distinct`);
      }
    }
    const current = new Set(this.#ring.servers);
    const added = servers.filter((server) => !current.has(server));
    const removed = [...current].filter((server) => !next.has(server));
    for (const server of added) this.#addNode(server, 'primary');
    const before = this.#ring;
    this.#ring = new KetamaRing(servers);
    if (added.length > 0 || removed.length > 0) this.#ringChanges.record(before, this.#ring);
    for (const server of removed) {
      const node = this.#nodes.get(server) as CacheNode;
      this.#nodes.delete(server);
      node.retired = true;
      if (node.probeTimer) clearInterval(node.probeTimer);
      node.probeTimer = undefined;
      this.#metrics.setNodeUp(server, false);
      const closing = new Promise<void>((resolve) => setTimeout(resolve, this.#retireAfterMs).unref())
        .then(() => node.pool.close())
        .finally(() => this.#retiring.delete(closing));
      this.#retiring.add(closing);
    }
    if (added.length > 0 || removed.length > 0) {
      this.#logger.info({ servers: [...servers], added, removed }, 'memcached ring membership changed');
    }
    return { added, removed };
  }

  status(): CacheNodeStatus[] {
    return [...this.#nodes.values()].map((node) => ({
      server: node.pool.server,
      state: node.ejectedAt === undefined ? 'up' : 'ejected',
      consecutiveFailures: node.consecutiveFailures,
      role: node.role,
      ...(node.ejectedAt === undefined ? {} : { ejectedAt: node.ejectedAt }),
      writes: node.pool.writes,
    }));
  }

  /** Closes every socket and stops the probes; later calls throw CacheUnavailableError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const node of this.#nodes.values()) {
      if (node.probeTimer) clearInterval(node.probeTimer);
      node.probeTimer = undefined;
    }
    await Promise.all([...[...this.#nodes.values()].map((node) => node.pool.close()), ...this.#retiring]);
  }

  #addNode(server: string, role: CacheNode['role']): void {
    const node: CacheNode = {
      role,
      retired: false,
      consecutiveFailures: 0,
      ejectedAt: undefined,
      probeTimer: undefined,
      probing: false,
      pool: new NodePool({
        ...this.#poolOptions,
        server,
        onFailure: (error) => this.#recordFailure(node, error),
        onSuccess: () => {
          if (node.ejectedAt === undefined) node.consecutiveFailures = 0;
        },
      }),
    };
    this.#nodes.set(server, node);
    this.#metrics.setNodeUp(server, true);
  }

  #target(key: string): Target {
    if (!isValidMemcachedKey(key)) {
      throw new CacheKeyError(
        `invalid memcached key (${Buffer.byteLength(key)} bytes): build keys with keySpace()/toMemcachedKey()`,
      );
    }
    if (this.#closed) throw new CacheUnavailableError('cache cluster is closed');
    const owner = this.#nodes.get(this.#ring.nodeFor(key)) as CacheNode;
    if (owner.ejectedAt === undefined) return { node: owner, capped: false };
    // Rehashing onto live nodes spreads a dead node's load over the ring (not onto one neighbour
    // like memjs's failover); the gutter, when configured, keeps it off the live nodes entirely.
    const ring = this.#gutterRing ?? this.#ring;
    for (const server of ring.candidates(key)) {
      const node = this.#nodes.get(server) as CacheNode;
      if (node.ejectedAt === undefined) return { node, capped: true };
    }
    throw new CacheUnavailableError(
      this.#gutterRing
        ? `memcached ${owner.pool.server} and every gutter node are ejected`
        : 'every memcached node is ejected',
      { node: owner.pool.server },
    );
  }

  #ttl(target: Target, ttlSeconds: number): number {
    if (!target.capped) return ttlSeconds;
    // 0 means "never expires"; absolute (epoch) TTLs are larger than any cap, so min() works for both.
    return ttlSeconds > 0 ? Math.min(ttlSeconds, this.#gutterTtlSeconds) : this.#gutterTtlSeconds;
  }

  async #run<T>(target: Target, op: string, fn: (pool: NodePool) => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn(target.node.pool);
    } finally {
      this.#metrics.observeOperation(target.node.pool.server, op, (performance.now() - started) / 1000);
    }
  }

  #recordFailure(node: CacheNode, error: CacheError): void {
    if (this.#closed || node.retired || node.ejectedAt !== undefined) return;
    node.consecutiveFailures += 1;
    this.#warn('transport', node, error);
    if (node.consecutiveFailures >= this.#ejectAfterFailures) this.#eject(node, error);
  }

  #eject(node: CacheNode, cause: CacheError): void {
    const server = node.pool.server;
    node.ejectedAt = this.#clock();
    this.#metrics.recordNodeEjection(server);
    this.#metrics.setNodeUp(server, false);
    this.#logger.warn(
      { node: server, role: node.role, consecutiveFailures: node.consecutiveFailures, ...errorFields(cause) },
      'memcached node ejected',
    );
    // Whatever is still waiting on it would only run into its timeout.
    node.pool.reset(new CacheUnavailableError(`memcached ${server} was ejected`, { node: server }));
    node.probeTimer = setInterval(() => void this.#probe(node), this.#probeIntervalMs);
    node.probeTimer.unref();
  }

  async #probe(node: CacheNode): Promise<void> {
    if (node.probing || this.#closed || node.retired || node.ejectedAt === undefined) return;
    node.probing = true;
    const server = node.pool.server;
    try {
      await node.pool.version(this.#opTimeoutMs);
      if (this.#flushOnRejoin) await node.pool.flush(this.#opTimeoutMs);
      if (this.#closed) return;
      if (node.probeTimer) clearInterval(node.probeTimer);
      node.probeTimer = undefined;
      const ejectedForMs = this.#clock() - (node.ejectedAt ?? this.#clock());
      node.ejectedAt = undefined;
      node.consecutiveFailures = 0;
      this.#metrics.setNodeUp(server, true);
      this.#logger.info(
        { node: server, role: node.role, ejectedForMs, flushed: this.#flushOnRejoin },
        'memcached node rejoined',
      );
    } catch {
      // Still down: the next probe tries again.
    } finally {
      node.probing = false;
    }
  }

  #warn(kind: string, node: CacheNode, error: unknown): void {
    const server = node.pool.server;
    this.#log.warn(`${kind}:${server}`, { node: server, ...errorFields(error) }, `memcached ${kind} failure`);
  }
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

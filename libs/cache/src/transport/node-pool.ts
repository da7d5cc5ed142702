import {
  incrementExtras,
  Opcode,
  type Request,
  type Response,
  responseFlags,
  Status,
  statusText,
  storeExtras,
} from './binary-protocol.js';
import { CacheProtocolError, type CacheError } from '../errors.js';
import { NodeConnection } from './node-connection.js';
import type { CacheTlsOptions } from './tls-socket.js';

/** One cached item as memcached holds it. `cas` changes on every write of the item. */
export interface CacheItem {
  value: Buffer;
  flags: number;
  cas: bigint;
}

/** One write of a batch (storeMany). */
export interface StoreItem {
  key: string;
  value: Buffer;
  ttlSeconds: number;
  flags: number;
  /** Compare-and-swap: stored only if the item's CAS still equals this. */
  cas?: bigint | undefined;
}

/** What a store answers when it did not store: CAS mismatch or item gone (with CAS), key exists (add), too large, out of memory. */
const NOT_STORED = new Set<number>([
  Status.keyExists,
  Status.keyNotFound,
  Status.itemNotStored,
  Status.valueTooLarge,
  Status.outOfMemory,
]);

export interface NodePoolOptions {
  server: string;
  poolSize: number;
  opTimeoutMs: number;
  connectTimeoutMs: number;
  username?: string | undefined;
  password?: string | undefined;
  tls?: CacheTlsOptions | undefined;
  onFailure(error: CacheError): void;
  onSuccess(): void;
}

/**
 * The connections to one memcached node (round-robin, so one slow large response does not
 * queue every request behind it) and the operations in memcached's own terms. Which node a key
 * belongs to, TTL caps and health are the cluster's business.
 */
export class NodePool {
  readonly server: string;
  readonly #connections: NodeConnection[];
  #next = 0;
  #writes = 0;

  constructor(opts: NodePoolOptions) {
    this.server = opts.server;
    const { host, port } = parseServer(opts.server);
    this.#connections = Array.from(
      { length: Math.max(1, opts.poolSize) },
      () =>
        new NodeConnection({
          server: opts.server,
          host,
          port,
          username: opts.username,
          password: opts.password,
          tls: opts.tls,
          opTimeoutMs: opts.opTimeoutMs,
          connectTimeoutMs: opts.connectTimeoutMs,
          onFailure: opts.onFailure,
          onSuccess: opts.onSuccess,
          onWrite: () => {
            this.#writes += 1;
          },
        }),
    );
  }

  /** Socket writes so far: one per operation, one per node per getMany batch. */
  get writes(): number {
    return this.#writes;
  }

  async get(key: string): Promise<CacheItem | null> {
    const response = await this.#request({ opcode: Opcode.get, key });
    if (response.status === Status.keyNotFound) return null;
    this.#expect(response, 'get', Status.ok);
    return toItem(response);
  }

  /** GETKQ per key + NOOP, one write. Keys that fail with a status other than "not found" are left out (a miss). */
  async getMany(keys: readonly string[]): Promise<Map<string, CacheItem>> {
    const answers = await this.#connection().quietBatch(keys.map((key) => ({ opcode: Opcode.getkq, key })));
    const items = new Map<string, CacheItem>();
    for (let i = 0; i < keys.length; i += 1) {
      const response = answers[i];
      if (response?.status === Status.ok) items.set(keys[i] as string, toItem(response));
    }
    return items;
  }

  /**
   * Sets (each with its own CAS, when given) as SETQ + NOOP, one write: memcached answers only
   * the ones it did not store. Returns, per item, whether it was stored.
   */
  async storeMany(items: readonly StoreItem[]): Promise<boolean[]> {
    const answers = await this.#connection().quietBatch(
      items.map((item) => ({
        opcode: Opcode.setq,
        key: item.key,
        extras: storeExtras(item.flags, item.ttlSeconds),
        value: item.value,
        cas: item.cas,
      })),
    );
    return items.map((item, i) => {
      const response = answers[i];
      if (response === undefined || response.status === Status.ok) return true;
      if (NOT_STORED.has(response.status)) return false;
      throw this.#unexpected(response, 'set');
    });
  }

  /**
   * set (optionally compare-and-swap) or add. Returns the new item's CAS, or null when memcached
   * did not store it: CAS mismatch or item gone (set with cas), key exists (add), too large,
   * out of memory.
   */
  async store(
    op: 'set' | 'add',
    key: string,
    value: Buffer,
    ttlSeconds: number,
    flags: number,
    cas?: bigint,
  ): Promise<bigint | null> {
    const response = await this.#request({
      opcode: op === 'set' ? Opcode.set : Opcode.add,
      key,
      extras: storeExtras(flags, ttlSeconds),
      value,
      cas,
    });
    if (response.status === Status.ok) return response.cas;
    if (NOT_STORED.has(response.status)) return null;
    throw this.#unexpected(response, op);
  }

  async delete(key: string): Promise<boolean> {
    const response = await this.#request({ opcode: Opcode.delete, key });
    if (response.status === Status.keyNotFound) return false;
    this.#expect(response, 'delete', Status.ok);
    return true;
  }

  /**
   * Adds `delta` (negative: subtracts, memcached stops at 0). A missing key is created holding
   * `initial` when `createTtlSeconds` is given, else the result is null.
   */
  async incr(key: string, delta: bigint, initial: bigint, createTtlSeconds?: number): Promise<bigint | null> {
    const decrement = delta < 0n;
    const response = await this.#request({
      opcode: decrement ? Opcode.decrement : Opcode.increment,
      key,
      extras: incrementExtras(decrement ? -delta : delta, initial, createTtlSeconds),
    });
    if (response.status === Status.keyNotFound) return null;
    this.#expect(response, 'incr', Status.ok);
    if (response.value.length !== 8) throw this.#unexpected(response, 'incr');
    return response.value.readBigUInt64BE(0);
  }

  /** The node's version string; the probe of an ejected node. */
  async version(timeoutMs?: number): Promise<string> {
    const response = await this.#request({ opcode: Opcode.version }, timeoutMs);
    this.#expect(response, 'version', Status.ok);
    return response.value.toString('utf8');
  }

  /** Drops every item on the node (a node back from ejection missed the deletes sent meanwhile). */
  async flush(timeoutMs?: number): Promise<void> {
    const response = await this.#request({ opcode: Opcode.flush }, timeoutMs);
    this.#expect(response, 'flush', Status.ok);
  }

  /** Fails every pending request on every connection (used when the node is ejected). */
  reset(error: CacheError): void {
    for (const connection of this.#connections) connection.reset(error);
  }

  async close(): Promise<void> {
    await Promise.all(this.#connections.map((connection) => connection.close()));
  }

  #request(request: Request, timeoutMs?: number): Promise<Response> {
    return this.#connection().request(request, timeoutMs);
  }

  #connection(): NodeConnection {
    const connection = this.#connections[this.#next % this.#connections.length] as NodeConnection;
    this.#next = (this.#next + 1) % this.#connections.length;
    return connection;
  }

  #expect(response: Response, op: string, status: number): void {
    if (response.status !== status) throw this.#unexpected(response, op);
  }

  #unexpected(response: Response, op: string): CacheProtocolError {
    const detail = response.value.length > 0 ? `: ${response.value.toString('utf8').slice(0, 200)}` : '';
    return new CacheProtocolError(
      `memcached ${this.server} answered ${op} with ${statusText(response.status)}${detail}`,
      { node: this.server, status: response.status },
    );
  }
}

function toItem(response: Response): CacheItem {
  return { value: response.value, flags: responseFlags(response), cas: response.cas };
}

/** 'host:port' or '[ipv6]:port'; the port is required (see docs/architecture.md, cluster.ts). */
export function parseServer(server: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(server.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || !match[1] || port < 1 || port > 65535) {
    throw new TypeError(`memcached server "${server}" must be "host:port" with an explicit port`);
  }
  return { host: match[1], port };
}

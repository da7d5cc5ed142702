/**
 * Every error the cluster layer throws is a `CacheError`, so callers (the cache-aside layer) can
 * catch the whole family with one `instanceof` and still tell the causes apart for logs and
 * metrics. `node` names the memcached server (`host:port`) when one was involved.
 */
export class CacheError extends Error {
  override readonly name: string = 'CacheError';
  readonly node: string | undefined;

  constructor(message: string, options: { node?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.node = options.node;
  }
}

/**
 * No node can take the operation: every node (and every gutter node) is ejected, or the cluster
 * is closed. Thrown without touching the network, so a dead cache costs nothing per request.
 */
export class CacheUnavailableError extends CacheError {
  override readonly name = 'CacheUnavailableError';
}

/** The node did not answer within the operation timeout (a hung or overloaded node). */
export class CacheTimeoutError extends CacheError {
  override readonly name = 'CacheTimeoutError';
  readonly timeoutMs: number;

  constructor(message: string, options: { node?: string; timeoutMs: number; cause?: unknown }) {
    super(message, options);
    this.timeoutMs = options.timeoutMs;
  }
}

/** The connection failed: refused, reset, closed by the node, or SASL authentication rejected. */
export class CacheConnectionError extends CacheError {
  override readonly name = 'CacheConnectionError';
}

/** The node answered with a status this client does not expect for the operation. */
export class CacheProtocolError extends CacheError {
  override readonly name = 'CacheProtocolError';
  readonly status: number;

  constructor(message: string, options: { node?: string; status: number; cause?: unknown }) {
    super(message, options);
    this.status = options.status;
  }
}

/**
 * A key memcached would reject (empty, over 250 bytes, or with spaces/control characters). A bug
 * in the caller, not an outage: build keys with `keySpace` / `toMemcachedKey` (keys.ts).
 */
export class CacheKeyError extends CacheError {
  override readonly name = 'CacheKeyError';
}

/** A value the JSON codec cannot encode (a BigInt, a cycle). A bug in the caller. */
export class CacheCodecError extends CacheError {
  override readonly name = 'CacheCodecError';
}

/**
 * A purge the caller asked to confirm (`invalidate(keys, { confirm: true })`) did not reach
 * memcached: an event consumer must not ack the event, the broker redelivers it.
 */
export class CacheWriteNotConfirmedError extends CacheError {
  override readonly name = 'CacheWriteNotConfirmedError';
}

/** The bus is not connected; the caller (usually the outbox relay) retries later. */
export class InvalidationBusUnavailableError extends Error {
  override readonly name = 'InvalidationBusUnavailableError';
  constructor(message = 'invalidation bus is not connected') {
    super(message);
  }
}

/** The broker did not confirm a publish (nack, channel closed, or confirm timeout). */
export class InvalidationPublishError extends Error {
  override readonly name: string = 'InvalidationPublishError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The broker returned a `mandatory` publish: no queue is bound to its routing key, so without
 * the flag it would have been confirmed and dropped.
 */
export class InvalidationUnroutableError extends InvalidationPublishError {
  override readonly name = 'InvalidationUnroutableError';
}

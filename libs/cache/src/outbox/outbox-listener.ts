import { decodeInvalidationEvent, type InvalidationEvent } from '../invalidation-event.js';
import { errorFields, silentLogger, type LoggerLike, RateLimitedLogger } from '../logger.js';
import { checkedChannelName } from './outbox-table.js';

/**
 * What `pg`'s `Client` offers a listener. Structural, so the lib needs no `pg` of its own: the
 * service's `pg.Client` fits.
 */
export interface PgListenConnection {
  query(text: string): Promise<unknown>;
  /**
   * 'notification' (`{ channel, payload }`), 'error' (an Error) and 'end'. One loose signature:
   * pg's own `on` is a generic that overloads would not accept.
   */
  on(event: 'notification' | 'error' | 'end', listener: (...args: never[]) => void): unknown;
  end(): Promise<void>;
}

/** What a 'notification' event carries. */
interface PgNotification {
  channel: string;
  payload?: string;
}

export interface OutboxListenerOptions {
  /**
   * Opens the listener's own connection (`new pg.Client(url)`, connected). Not a pooled one:
   * LISTEN belongs to the session and holds it for the listener's life.
   */
  connect: () => Promise<PgListenConnection>;
  /** The channel `enqueueOutboxEvent(..., { notify })` names. */
  channel: string;
  /** Each announced event goes to `relay.kick([event])`. */
  relay: { kick(events: readonly InvalidationEvent[]): void };
  /** Reconnect backoff: base * 2^(failures-1), capped. Defaults 100 ms and 5 s. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /**
   * A connection that went silent (peer gone without a FIN, a paused VM) raises no error, and a
   * pooler in transaction mode accepts LISTEN but delivers nothing: this often the listener
   * notifies its own channel and must hear it back within `queryTimeoutMs` (LISTEN itself must
   * answer as fast), or the connection is dropped and replaced. Defaults 5000 ms and 2000 ms.
   */
  heartbeatIntervalMs?: number;
  queryTimeoutMs?: number;
  /** Called when the listener starts or stops receiving notifications. */
  onListening?: (listening: boolean) => void;
  logger?: LoggerLike;
}

/**
 * Publishes outbox events at the moment their transaction commits: Postgres delivers the
 * `pg_notify` that `enqueueOutboxEvent` queued, and the relay publishes the event it carries.
 * Run it where nothing else competes for the event loop (a worker thread or a process of its
 * own), so the publish waits neither for the writer nor for its requests.
 *
 * Notifications sent while the connection is down are lost, not queued: the writer should publish
 * itself while `listening` is false, and a relay that polls the table covers the moment between
 * a connection's loss and the writer learning of it.
 */
export class OutboxListener {
  readonly #opts: OutboxListenerOptions;
  readonly #channel: string;
  readonly #log: RateLimitedLogger;
  #connection: PgListenConnection | null = null;
  #closed = true;
  #failures = 0;
  #timer: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #connecting: Promise<void> | null = null;
  /** Resolves the heartbeat waiting for its own notification to come back. */
  #echo: (() => void) | null = null;
  /** Bumped by start() and close(): a connect begun before belongs to a listener no longer wanted. */
  #generation = 0;

  constructor(opts: OutboxListenerOptions) {
    this.#opts = opts;
    this.#channel = checkedChannelName(opts.channel);
    this.#log = new RateLimitedLogger(opts.logger ?? silentLogger);
  }

  /** True while notifications reach this listener. */
  get listening(): boolean {
    return this.#connection !== null;
  }

  start(): void {
    if (!this.#closed) return;
    this.#closed = false;
    this.#generation += 1;
    this.#connecting = this.#connect(this.#generation);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const generation = ++this.#generation;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#connecting;
    // start() ran meanwhile: the connection now is the new listener's.
    if (generation !== this.#generation) return;
    const connection = this.#connection;
    this.#setConnection(null);
    await connection?.end().catch(() => undefined);
  }

  async #connect(generation: number): Promise<void> {
    const current = () => generation === this.#generation;
    let connection: PgListenConnection;
    try {
      connection = await this.#opts.connect();
    } catch (err) {
      this.#log.warn('outbox-listen', errorFields(err), 'outbox listener could not connect, retrying');
      if (current()) this.#retry(generation);
      return;
    }
    let gone = false;
    const lost = (err?: unknown) => {
      if (gone) return;
      gone = true;
      if (this.#connection === connection) this.#setConnection(null);
      void connection.end().catch(() => undefined);
      if (!current()) return;
      this.#log.warn('outbox-listen', errorFields(err), 'outbox listener lost its connection, reconnecting');
      this.#retry(generation);
    };
    connection.on('error', (err: Error) => lost(err));
    connection.on('end', () => lost(new Error('connection ended')));
    connection.on('notification', (message: PgNotification) => {
      if (message.channel === this.#channel) this.#onNotification(message.payload ?? '');
    });
    try {
      await this.#answered(connection.query(`LISTEN "${this.#channel}"`));
    } catch (err) {
      lost(err);
      return;
    }
    if (gone) return;
    if (!current()) {
      gone = true;
      await connection.end().catch(() => undefined);
      return;
    }
    this.#failures = 0;
    this.#setConnection(connection);
    this.#beat(connection, lost);
  }

  /**
   * Proves, every interval, that notifications still arrive: a NOTIFY of its own channel (empty
   * payload) must come back in time, or the connection is dropped.
   */
  #beat(connection: PgListenConnection, lost: (err: unknown) => void): void {
    this.#heartbeat = setTimeout(() => {
      this.#heartbeat = null;
      if (this.#connection !== connection) return;
      const echoed = new Promise<void>((resolve) => (this.#echo = resolve));
      this.#answered(Promise.all([connection.query(`NOTIFY "${this.#channel}"`), echoed])).then(
        () => {
          if (this.#connection === connection) this.#beat(connection, lost);
        },
        (err: unknown) => lost(err),
      );
    }, this.#opts.heartbeatIntervalMs ?? 5000);
    this.#heartbeat.unref();
  }

  #answered<T>(work: Promise<T>): Promise<T> {
    const timeoutMs = this.#opts.queryTimeoutMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from Postgres within ${timeoutMs} ms`)),
        timeoutMs,
      );
      timer.unref();
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  #onNotification(payload: string): void {
    if (payload === '') {
      this.#echo?.();
      this.#echo = null;
      return;
    }
    const decoded = decodeInvalidationEvent(Buffer.from(payload, 'utf8'));
    if (decoded.ok) this.#opts.relay.kick([decoded.event]);
    // Not one of ours: the polling relay publishes whatever this announcement was about.
    else
      this.#log.warn(
        'outbox-notification',
        { reason: decoded.reason },
        'outbox notification is not an event',
      );
  }

  #retry(generation: number): void {
    this.#failures += 1;
    const base = this.#opts.reconnectBaseMs ?? 100;
    const delay = Math.min(this.#opts.reconnectMaxMs ?? 5000, base * 2 ** Math.min(this.#failures - 1, 16));
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (generation === this.#generation) this.#connecting = this.#connect(generation);
    }, delay);
    this.#timer.unref();
  }

  #setConnection(connection: PgListenConnection | null): void {
    const was = this.#connection !== null;
    if (connection === null && this.#heartbeat) {
      clearTimeout(this.#heartbeat);
      this.#heartbeat = null;
    }
    this.#connection = connection;
    if (was !== (connection !== null)) this.#opts.onListening?.(connection !== null);
  }
}

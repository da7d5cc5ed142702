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
  /**
   * Each announced event goes to `relay.kick([event])`; one announced by its id alone (too large
   * for NOTIFY), or undecodable, to `relay.kick()` (a claim round).
   */
  relay: { kick(events?: readonly InvalidationEvent[]): void };
  /** Reconnect backoff: base * 2^(failures-1), capped. Defaults 100 ms and 5 s. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /**
   * A connection that went silent (peer gone without a FIN, a paused VM) raises no error: a
   * `SELECT 1` this often, and LISTEN itself, must answer within `queryTimeoutMs` or the
   * connection is dropped and replaced. Defaults 5000 ms and 2000 ms.
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
    this.#generation += 1;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#connecting;
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

  /** Proves the connection alive every interval; a query not answered in time drops it. */
  #beat(connection: PgListenConnection, lost: (err: unknown) => void): void {
    this.#heartbeat = setTimeout(() => {
      this.#heartbeat = null;
      if (this.#connection !== connection) return;
      this.#answered(connection.query('SELECT 1')).then(
        () => this.#beat(connection, lost),
        (err: unknown) => lost(err),
      );
    }, this.#opts.heartbeatIntervalMs ?? 5000);
    this.#heartbeat.unref();
  }

  #answered<T>(query: Promise<T>): Promise<T> {
    const timeoutMs = this.#opts.queryTimeoutMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from Postgres within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return Promise.race([query, timeout]).finally(() => clearTimeout(timer));
  }

  #onNotification(payload: string): void {
    // A payload too large for NOTIFY is announced by its id: the relay claims it from the table.
    if (!payload.startsWith('{')) {
      this.#opts.relay.kick();
      return;
    }
    const decoded = decodeInvalidationEvent(Buffer.from(payload, 'utf8'));
    if (decoded.ok) {
      this.#opts.relay.kick([decoded.event]);
      return;
    }
    this.#log.warn('outbox-notification', { reason: decoded.reason }, 'outbox notification is not an event');
    this.#opts.relay.kick();
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

import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as memjs from 'memjs';
import {
  decodeResponse,
  encodeRequest,
  Opcode,
  type Request,
  type Response,
  responseFrameLength,
  SaslOpcode,
  Status,
} from './binary-protocol.js';
import { type CacheTlsOptions, type MemjsSocketOwner, openSocketsOverTls } from './tls-socket.js';
import { CacheConnectionError, CacheError, CacheTimeoutError } from '../errors.js';

export interface NodeConnectionOptions {
  /** 'host:port', used in errors. */
  server: string;
  host: string;
  port: number;
  username?: string | undefined;
  password?: string | undefined;
  /** Open the socket with tls.connect instead of net.connect. Default: plain TCP. */
  tls?: CacheTlsOptions | undefined;
  opTimeoutMs: number;
  connectTimeoutMs: number;
  /**
   * Told once per transport failure (a timeout, a refused or reset connection), not once per
   * operation that failed with it: a node that hiccups while 50 requests are in flight has failed
   * once, and ejection counts consecutive failures.
   */
  onFailure(error: CacheError): void;
  /** Told on every response (the node is alive). */
  onSuccess(): void;
  /** Told on every socket write: tests and status() count request rounds with it. */
  onWrite(): void;
}

/** The memjs `Server` fields this file reads beyond its typed API. */
type MemjsServer = memjs.Server & {
  _socket?: Socket;
  username?: string | undefined;
  password?: string | undefined;
  errorCallbacks: Record<number, unknown>;
};

/** Never used for a request: its error callback tells us the memjs Server failed. */
const SENTINEL_OPAQUE = 0xffffffff;

/** A request waiting for its response. */
interface PendingOp {
  resolve(response: Response): void;
  reject(error: CacheError): void;
  timeoutMs: number;
  /** performance.now() by which the node must have answered. */
  deadline: number;
}

/** One memjs Server (one socket) and what is waiting on it. */
interface Link {
  readonly server: MemjsServer;
  /** Requests by opaque, oldest first (memcached answers in order). */
  readonly pending: Map<number, PendingOp>;
  /** Answer handlers of quiet requests (quietBatch), by opaque; a quiet request may get no answer. */
  readonly quiet: Map<number, (response: Response) => void>;
  /** Frames written before the connection was ready (connected and SASL done). */
  queued: Buffer[];
  /** The single deadline timer of this link; armed while something is pending. */
  timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now()). */
  timerAt: number;
  /** A deadline check is waiting for this loop iteration's I/O (see #checkDeadlines). */
  checking: boolean;
  /** Bytes of a response whose end has not arrived yet. */
  partial: Buffer | undefined;
}

/**
 * One connection to one memcached node. memjs's `Server` opens the socket, runs SASL and keeps
 * TCP keep-alive; the requests and responses on it are ours. What this adds, from reading memjs
 * 1.3.2's server.js:
 *
 * - Deadlines of our own, one timer per connection. memjs tracks deadlines in one FIFO shifted
 *   once per response, so pipelined or concurrent requests drift out of step with it and a hung
 *   node can go undetected. memcached answers in order on a connection, so when one request is
 *   late every request behind it is at least as late: one timer that checks the earliest
 *   deadline is enough, and a late request resets the whole connection. (A timer per request
 *   costs a timer insert and removal on every operation.)
 * - A deadline fails the node only after this process has read what the node sent: when the
 *   timer fires after our own event loop was busy (a burst of requests, a GC pause), the answer
 *   may be waiting in the socket already, and that is not the node's fault. The check is
 *   repeated after the loop's I/O phase (setImmediate) before the connection is reset.
 * - Responses parsed in place (memjs copies its whole read buffer on every 'data' event and
 *   builds several objects per response) and routed by opaque through one map: no closures
 *   registered per request.
 * - A fresh memjs `Server` after any failure. A reused one can lose its new socket: the old
 *   socket's late 'close' handler clears `_socket` after a reconnect, orphaning the new socket
 *   (never written to, never closed, keeping the process alive).
 * - Pending requests fail at once when the node closes the socket (memjs leaves them waiting).
 * - SASL credentials only from our options: memjs falls back to MEMCACHE_USERNAME/PASSWORD env.
 * - TLS when asked for (tls-socket.ts): memjs can only open plain TCP sockets.
 */
export class NodeConnection {
  readonly #opts: NodeConnectionOptions;
  #link: Link | undefined;
  #opaque = 0;
  #closed = false;
  /** Every socket not yet closed, and the memjs Server that opened it. */
  readonly #sockets = new Map<Socket, MemjsServer>();

  constructor(opts: NodeConnectionOptions) {
    this.#opts = opts;
  }

  /** One request, one response. Rejects with CacheTimeoutError / CacheConnectionError. */
  request(request: Request, timeoutMs = this.#opts.opTimeoutMs): Promise<Response> {
    let link: Link;
    try {
      link = this.#current();
    } catch (error) {
      return Promise.reject(error);
    }
    const opaque = this.#nextOpaque();
    const response = new Promise<Response>((resolve, reject) => {
      this.#track(link, opaque, { resolve, reject, timeoutMs, deadline: 0 });
    });
    this.#write(link, encodeRequest(request, opaque));
    return response;
  }

  /**
   * Quiet requests (GETKQ, SETQ) and a NOOP, in one write: memcached answers a quiet request
   * only when it has something to say (a hit, a failed store), then the NOOP, which says every
   * answer is in. One round trip for the whole batch. Resolves with the answers by request index.
   */
  quietBatch(
    requests: readonly Request[],
    timeoutMs = this.#opts.opTimeoutMs,
  ): Promise<Array<Response | undefined>> {
    let link: Link;
    try {
      link = this.#current();
    } catch (error) {
      return Promise.reject(error);
    }
    const answers = new Array<Response | undefined>(requests.length);
    const first = this.#nextOpaques(requests.length + 1);
    const frames: Buffer[] = [];
    for (let i = 0; i < requests.length; i += 1) {
      const opaque = opaqueAt(first, i);
      link.quiet.set(opaque, (response) => {
        answers[i] = response;
      });
      frames.push(encodeRequest(requests[i] as Request, opaque));
    }
    const forgetQuiet = () => {
      for (let i = 0; i < requests.length; i += 1) link.quiet.delete(opaqueAt(first, i));
    };
    const noopOpaque = opaqueAt(first, requests.length);
    const done = new Promise<Array<Response | undefined>>((resolve, reject) => {
      this.#track(link, noopOpaque, {
        resolve: () => {
          forgetQuiet();
          resolve(answers);
        },
        reject: (error) => {
          forgetQuiet();
          reject(error);
        },
        timeoutMs,
        deadline: 0,
      });
    });
    frames.push(encodeRequest({ opcode: Opcode.noop }, noopOpaque));
    this.#write(link, Buffer.concat(frames));
    return done;
  }

  /** Fails whatever is pending and closes the socket; later requests open a new one. */
  reset(error: CacheError): void {
    this.#link?.server.error(error);
  }

  /** Fails whatever is pending, destroys every socket; resolves once they are all closed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#link?.server.error(new CacheConnectionError('cache cluster closed', { node: this.#opts.server }));
    this.#link = undefined;
    const closing = [...this.#sockets.keys()].map((socket) => {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.destroy();
      return closed;
    });
    await Promise.all(closing);
  }

  #current(): Link {
    if (this.#closed) throw new CacheConnectionError('cache cluster closed', { node: this.#opts.server });
    if (this.#link) return this.#link;
    const { host, port, username, password, tls, opTimeoutMs, connectTimeoutMs } = this.#opts;
    const server = new memjs.Server(host, port, username, password, {
      // Only its connect timeout applies: requests never go through memjs's write().
      timeout: (2 * Math.max(opTimeoutMs, connectTimeoutMs)) / 1000,
      conntimeout: connectTimeoutMs / 1000,
      keepAlive: true,
      keepAliveDelay: 30,
    }) as MemjsServer;
    server.username = username;
    server.password = password;
    if (tls) openSocketsOverTls(server as MemjsSocketOwner, host, port, tls);
    const link: Link = {
      server,
      pending: new Map(),
      quiet: new Map(),
      queued: [],
      timer: undefined,
      timerAt: 0,
      checking: false,
      partial: undefined,
    };
    // memjs's socket 'data' listener calls this method of the instance.
    server.responseHandler = (chunk: Buffer) => this.#read(link, chunk);
    // The clock of requests sent while the connection was being opened starts once it is ready:
    // a node that accepts connections but never answers (SIGSTOP, a wedged event loop) still
    // times out `timeoutMs` after that; memjs's connect timeout bounds the opening.
    server.once('authenticated', () => {
      const now = performance.now();
      for (const op of link.pending.values()) op.deadline = now + op.timeoutMs;
      this.#arm(link, now);
    });
    server.onError(SENTINEL_OPAQUE, (error) => {
      if (this.#link === link) this.#link = undefined;
      if (link.timer) clearTimeout(link.timer);
      link.timer = undefined;
      link.queued = [];
      link.quiet.clear();
      const cacheError = toCacheError(error, this.#opts.server);
      const ops = [...link.pending.values()];
      link.pending.clear();
      for (const op of ops) op.reject(cacheError);
      // memjs only end()s a socket whose connect timed out (and forgets it): a half-closed socket
      // to a hung node would linger. A failed Server is never used again, so all of it goes.
      for (const [socket, owner] of this.#sockets) if (owner === server) socket.destroy();
      if (!this.#closed) this.#opts.onFailure(cacheError);
    });
    this.#link = link;
    return link;
  }

  /** Every complete response in what has arrived; the rest waits for the next read. */
  #read(link: Link, chunk: Buffer): void {
    const server = link.server;
    let buffer = chunk;
    if (link.partial) {
      buffer = Buffer.concat([link.partial, chunk]);
      link.partial = undefined;
    }
    let offset = 0;
    for (;;) {
      const length = responseFrameLength(buffer, offset);
      if (length < 0 || buffer.length - offset < length) break;
      const opcode = buffer[offset + 1];
      const status = buffer.readUInt16BE(offset + 6);
      // The SASL handshake, as memjs's own handler runs it.
      if (opcode === SaslOpcode.listMechanisms) {
        server.saslAuth();
      } else if (status === Status.authError) {
        // memjs reports it as a bare string; toCacheError turns it into a CacheConnectionError.
        server.error('Memcached server authentication failed!' as unknown as Error);
        return;
      } else if (opcode === SaslOpcode.authenticate) {
        server.emit('authenticated');
      } else {
        this.#dispatch(link, decodeResponse(buffer, offset, length));
      }
      offset += length;
    }
    if (offset < buffer.length) link.partial = buffer.subarray(offset);
  }

  #dispatch(link: Link, response: Response): void {
    const op = link.pending.get(response.opaque);
    if (op !== undefined) {
      link.pending.delete(response.opaque);
      this.#opts.onSuccess();
      op.resolve(response);
      return;
    }
    link.quiet.get(response.opaque)?.(response);
  }

  #track(link: Link, opaque: number, op: PendingOp): void {
    const now = performance.now();
    op.deadline = link.server.connected
      ? now + op.timeoutMs
      : now + this.#opts.connectTimeoutMs + op.timeoutMs;
    link.pending.set(opaque, op);
    if (link.timer === undefined || op.deadline < link.timerAt) this.#arm(link, now);
  }

  /** (Re)arms the link's timer for its earliest pending deadline. */
  #arm(link: Link, now: number): void {
    let earliest = Infinity;
    for (const op of link.pending.values()) if (op.deadline < earliest) earliest = op.deadline;
    if (link.timer) clearTimeout(link.timer);
    link.timer = undefined;
    if (earliest === Infinity) return;
    link.timerAt = earliest;
    link.timer = setTimeout(() => this.#checkDeadlines(link), Math.max(1, Math.ceil(earliest - now)));
    link.timer.unref();
  }

  #checkDeadlines(link: Link): void {
    link.timer = undefined;
    if (link.pending.size === 0 || link.checking || this.#link !== link) return;
    link.checking = true;
    // Timers run before the loop reads sockets: look again once this iteration's I/O is in.
    setImmediate(() => {
      link.checking = false;
      if (this.#link !== link) return;
      const now = performance.now();
      for (const op of link.pending.values()) {
        if (op.deadline > now) continue;
        const phase = link.server.connected ? 'answer' : 'connect and answer';
        link.server.error(
          new CacheTimeoutError(`memcached ${this.#opts.server} did not ${phase} within ${op.timeoutMs} ms`, {
            node: this.#opts.server,
            timeoutMs: op.timeoutMs,
          }),
        );
        return;
      }
      this.#arm(link, now);
    });
  }

  #write(link: Link, frame: Buffer): void {
    const server = link.server;
    this.#opts.onWrite();
    const ready = server._socket;
    if (server.connected && ready) {
      ready.write(frame);
      return;
    }
    link.queued.push(frame);
    if (link.queued.length > 1) return;
    // Opens the socket (or waits for the one being opened); runs once connected and SASL is done.
    server.sock(false, (socket) => {
      const frames = link.queued;
      link.queued = [];
      socket.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
    });
    const opened = server._socket;
    if (opened && !this.#sockets.has(opened)) {
      this.#sockets.set(opened, server);
      opened.once('close', () => {
        this.#sockets.delete(opened);
        if (this.#link !== link) return;
        // An idle connection the node closed is just dropped; one with requests waiting failed them.
        if (link.pending.size > 0) {
          server.error(
            new CacheConnectionError('connection closed by the node', { node: this.#opts.server }),
          );
        } else {
          if (link.timer) clearTimeout(link.timer);
          this.#link = undefined;
        }
      });
    }
  }

  #nextOpaque(): number {
    // 0 is what memjs sends SASL frames with; SENTINEL_OPAQUE is ours.
    this.#opaque = this.#opaque >= SENTINEL_OPAQUE - 1 ? 1 : this.#opaque + 1;
    return this.#opaque;
  }

  /** `count` consecutive opaques (see opaqueAt); returns the first. */
  #nextOpaques(count: number): number {
    const first = this.#nextOpaque();
    for (let i = 1; i < count; i += 1) this.#nextOpaque();
    return first;
  }
}

/** The i-th of the opaques #nextOpaques handed out from `first` (they wrap past the sentinel to 1). */
function opaqueAt(first: number, i: number): number {
  return ((first - 1 + i) % (SENTINEL_OPAQUE - 1)) + 1;
}

function toCacheError(error: unknown, node: string): CacheError {
  if (error instanceof CacheError) return error;
  // memjs reports a rejected SASL login as a bare string.
  const message = error instanceof Error ? error.message : String(error);
  return new CacheConnectionError(`memcached ${node}: ${message}`, { node, cause: error });
}

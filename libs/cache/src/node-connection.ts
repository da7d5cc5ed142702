import type { Socket } from 'node:net';
import * as memjs from 'memjs';
import { encodeRequest, Opcode, type Request, type Response, Status, toResponse } from './binary-protocol';
import { CacheConnectionError, CacheError, CacheTimeoutError } from './errors';

export interface NodeConnectionOptions {
  /** 'host:port', used in errors. */
  server: string;
  host: string;
  port: number;
  username?: string;
  password?: string;
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
  username?: string;
  password?: string;
  responseCallbacks: Record<number, unknown>;
  errorCallbacks: Record<number, unknown>;
};

/** Never used for a request: its error callback tells us the memjs Server failed. */
const SENTINEL_OPAQUE = 0xffffffff;

/**
 * One connection to one memcached node, on a memjs `Server` (socket, SASL, framing, routing of
 * responses by opaque). What this adds, from reading memjs 1.3.2's server.js:
 *
 * - Per-operation deadlines of our own. memjs tracks deadlines in one FIFO shifted once per
 *   response, so pipelined or concurrent requests drift out of step with it and a hung node can
 *   go undetected. memcached answers in order on a connection, so when one request times out
 *   every request behind it is at least as late: the whole connection is reset.
 * - A fresh memjs `Server` after any failure. A reused one can lose its new socket: the old
 *   socket's late 'close' handler clears `_socket` after a reconnect, orphaning the new socket
 *   (never written to, never closed, keeping the process alive).
 * - Pending requests fail at once when the node closes the socket (memjs leaves them waiting).
 * - SASL credentials only from our options: memjs falls back to MEMCACHE_USERNAME/PASSWORD env.
 */
export class NodeConnection {
  readonly #opts: NodeConnectionOptions;
  #server: MemjsServer | undefined;
  #opaque = 0;
  #closed = false;
  /** Every socket not yet closed, and the memjs Server that opened it. */
  readonly #sockets = new Map<Socket, MemjsServer>();

  constructor(opts: NodeConnectionOptions) {
    this.#opts = opts;
  }

  /** One request, one response. Rejects with CacheTimeoutError / CacheConnectionError. */
  request(request: Request, timeoutMs = this.#opts.opTimeoutMs): Promise<Response> {
    return new Promise((resolve, reject) => {
      const server = this.#current();
      const opaque = this.#nextOpaque();
      const cancelDeadline = this.#deadline(server, timeoutMs);
      server.onResponse(opaque, (message) => {
        cancelDeadline();
        this.#opts.onSuccess();
        resolve(toResponse(message));
      });
      server.onError(opaque, (error) => {
        cancelDeadline();
        reject(toCacheError(error, this.#opts.server));
      });
      this.#write(server, encodeRequest(request, opaque));
    });
  }

  /**
   * GETKQ for every key and a NOOP, in one write: memcached answers only the hits, then the NOOP,
   * which says every answer is in. One round trip for the whole batch. Keys that fail with a
   * status other than "not found" are left out (a miss).
   */
  getMulti(keys: readonly string[], timeoutMs = this.#opts.opTimeoutMs): Promise<Map<string, Response>> {
    return new Promise((resolve, reject) => {
      const server = this.#current();
      const found = new Map<string, Response>();
      const quietOpaques: number[] = [];
      const frames: Buffer[] = [];
      for (const key of keys) {
        const opaque = this.#nextOpaque();
        quietOpaques.push(opaque);
        // memjs keeps a handler marked quiet until a response without a body (or our cleanup).
        const onHit = Object.assign(
          (message: memjs.Response) => {
            const response = toResponse(message);
            if (response.status === Status.ok) found.set(key, response);
          },
          { quiet: true },
        );
        server.onResponse(opaque, onHit);
        frames.push(encodeRequest({ opcode: Opcode.getkq, key }, opaque));
      }
      const noopOpaque = this.#nextOpaque();
      const cancelDeadline = this.#deadline(server, timeoutMs);
      const forgetQuiet = () => {
        for (const opaque of quietOpaques) delete server.responseCallbacks[opaque];
      };
      server.onResponse(noopOpaque, () => {
        cancelDeadline();
        forgetQuiet();
        this.#opts.onSuccess();
        resolve(found);
      });
      server.onError(noopOpaque, (error) => {
        cancelDeadline();
        forgetQuiet();
        reject(toCacheError(error, this.#opts.server));
      });
      frames.push(encodeRequest({ opcode: Opcode.noop }, noopOpaque));
      this.#write(server, Buffer.concat(frames));
    });
  }

  /** Fails whatever is pending and closes the socket; later requests open a new one. */
  reset(error: CacheError): void {
    this.#server?.error(error);
  }

  /** Fails whatever is pending, destroys every socket; resolves once they are all closed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#server?.error(new CacheConnectionError('cache cluster closed', { node: this.#opts.server }));
    this.#server = undefined;
    const closing = [...this.#sockets.keys()].map((socket) => {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.destroy();
      return closed;
    });
    await Promise.all(closing);
  }

  #current(): MemjsServer {
    if (this.#closed) throw new CacheConnectionError('cache cluster closed', { node: this.#opts.server });
    if (this.#server) return this.#server;
    const { host, port, username, password, opTimeoutMs, connectTimeoutMs } = this.#opts;
    const server = new memjs.Server(host, port, username, password, {
      // Our own deadlines fire first; memjs's (seconds) stays as a backstop.
      timeout: (2 * Math.max(opTimeoutMs, connectTimeoutMs)) / 1000,
      conntimeout: connectTimeoutMs / 1000,
      keepAlive: true,
      keepAliveDelay: 30,
    }) as MemjsServer;
    server.username = username;
    server.password = password;
    // Every request waiting for the connection listens for 'authenticated' (see #deadline).
    server.setMaxListeners(0);
    server.onError(SENTINEL_OPAQUE, (error) => {
      if (this.#server === server) this.#server = undefined;
      // memjs only end()s a socket whose connect timed out (and forgets it): a half-closed socket
      // to a hung node would linger. A failed Server is never used again, so all of it goes.
      for (const [socket, owner] of this.#sockets) if (owner === server) socket.destroy();
      if (!this.#closed) this.#opts.onFailure(toCacheError(error, this.#opts.server));
    });
    this.#server = server;
    return server;
  }

  #write(server: MemjsServer, frame: Buffer): void {
    this.#opts.onWrite();
    server.write(frame);
    const socket = server._socket;
    if (socket && !this.#sockets.has(socket)) {
      this.#sockets.set(socket, server);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        if (this.#server !== server) return;
        // An idle connection the node closed is just dropped; one with requests waiting failed them.
        const pending = Object.keys(server.errorCallbacks).length > 1;
        if (pending) {
          server.error(
            new CacheConnectionError('connection closed by the node', { node: this.#opts.server }),
          );
        } else {
          this.#server = undefined;
        }
      });
    }
  }

  /**
   * Arms the operation's deadline; returns its cancel. On a connection still being opened the
   * clock starts once it is ready (connected and SASL done), so a node that accepts connections
   * but never answers (SIGSTOP, a wedged event loop) still times out after `timeoutMs`; memjs's
   * connect timeout bounds the opening.
   */
  #deadline(server: MemjsServer, timeoutMs: number): () => void {
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number, phase: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        server.error(
          new CacheTimeoutError(`memcached ${this.#opts.server} did not ${phase} within ${ms} ms`, {
            node: this.#opts.server,
            timeoutMs: ms,
          }),
        );
      }, ms);
      timer.unref();
    };
    if (server.connected) {
      arm(timeoutMs, 'answer');
      return () => clearTimeout(timer);
    }
    const onReady = () => arm(timeoutMs, 'answer');
    server.once('authenticated', onReady);
    arm(this.#opts.connectTimeoutMs + timeoutMs, 'connect and answer');
    return () => {
      clearTimeout(timer);
      server.off('authenticated', onReady);
    };
  }

  #nextOpaque(): number {
    // 0 is what memjs sends SASL frames with; SENTINEL_OPAQUE is ours.
    this.#opaque = this.#opaque >= SENTINEL_OPAQUE - 1 ? 1 : this.#opaque + 1;
    return this.#opaque;
  }
}

function toCacheError(error: unknown, node: string): CacheError {
  if (error instanceof CacheError) return error;
  // memjs reports a rejected SASL login as a bare string.
  const message = error instanceof Error ? error.message : String(error);
  return new CacheConnectionError(`memcached ${node}: ${message}`, { node, cause: error });
}

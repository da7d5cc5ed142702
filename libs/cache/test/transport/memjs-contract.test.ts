import net from 'node:net';
import * as memjs from 'memjs';
import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import {
  decodeResponse,
  encodeRequest,
  Opcode,
  responseFrameLength,
} from '../../src/transport/binary-protocol.js';

/** The memjs Server internals transport/ uses (see transport/README.md). */
type ServerInternals = memjs.Server & {
  _socket?: net.Socket;
  username?: string;
  password?: string;
  connected: boolean;
  timeoutSet: boolean;
  connectCallbacks: Array<(socket: net.Socket) => void>;
  options: { conntimeout: number; keepAlive: boolean; keepAliveDelay: number };
  errorCallbacks: Record<number, unknown>;
  responseHandler(chunk: Buffer): void;
};

describe('memjs internals the transport relies on (real memcached)', () => {
  let memcached: MemcachedCluster;
  const opened: net.Socket[] = [];

  beforeAll(async () => {
    memcached = await startMemcachedCluster(1);
  });

  afterEach(() => {
    for (const socket of opened.splice(0)) socket.destroy();
  });

  afterAll(async () => {
    await memcached.stop();
  });

  function newServer(): ServerInternals {
    const [host, port] = (memcached.servers[0] as string).split(':');
    const server = new memjs.Server(host as string, Number(port), undefined, undefined, {
      timeout: 1,
      conntimeout: 2,
      keepAlive: true,
      keepAliveDelay: 30,
    }) as ServerInternals;
    // As NodeConnection does: no fallback to MEMCACHE_USERNAME/PASSWORD from the environment.
    server.username = undefined;
    server.password = undefined;
    return server;
  }

  function ready(server: ServerInternals): Promise<net.Socket> {
    return new Promise((resolve) =>
      server.sock(false, (socket: net.Socket) => {
        opened.push(socket);
        resolve(socket);
      }),
    );
  }

  it('a Server has the methods and fields NodeConnection calls', () => {
    const server = newServer() as unknown as Record<string, unknown>;
    for (const method of ['sock', 'onError', 'error', 'saslAuth', 'responseHandler', 'once', 'emit']) {
      expect(typeof server[method]).toBe('function');
    }
    expect(server['errorCallbacks']).toEqual({});
    expect(server['connected']).toBe(false);
    expect(server['_socket']).toBeUndefined();
  });

  it('sock() sets _socket at once, signals ready through authenticated, and feeds reads to the instance responseHandler', async () => {
    const server = newServer();
    const chunks: Buffer[] = [];
    let answered!: () => void;
    const answer = new Promise<void>((resolve) => (answered = resolve));
    server.responseHandler = (chunk: Buffer) => {
      chunks.push(chunk);
      const buffer = Buffer.concat(chunks);
      const length = responseFrameLength(buffer, 0);
      if (length >= 0 && buffer.length >= length) answered();
    };
    let authenticated = false;
    server.once('authenticated', () => (authenticated = true));

    const socketReady = ready(server);
    expect(server._socket).toBeInstanceOf(net.Socket);
    const socket = await socketReady;
    expect(socket).toBe(server._socket);
    expect(server.connected).toBe(true);
    expect(authenticated).toBe(true);

    socket.write(encodeRequest({ opcode: Opcode.version }, 0x1234));
    await answer;
    const buffer = Buffer.concat(chunks);
    const response = decodeResponse(buffer, 0, responseFrameLength(buffer, 0));
    expect(response.opaque).toBe(0x1234);
    expect(response.status).toBe(0);
  });

  it('error() calls the callback registered with onError and destroys and forgets _socket', async () => {
    const server = newServer();
    const errors: unknown[] = [];
    server.onError(0xffffffff, (error: unknown) => errors.push(error));
    await ready(server);
    const socket = server._socket as net.Socket;

    server.error(new Error('contract check'));

    expect(errors).toHaveLength(1);
    expect(socket.destroyed).toBe(true);
    expect(server._socket).toBeUndefined();
    expect(server.errorCallbacks).toEqual({});
  });

  it("a Server has the fields and methods tls-socket.ts replays memjs's socket setup with", () => {
    const server = newServer();
    expect(server.connectCallbacks).toEqual([]);
    expect(server.timeoutSet).toBe(false);
    expect(server.options).toMatchObject({ conntimeout: 2, keepAlive: true, keepAliveDelay: 30 });
    expect(typeof server.listSasl).toBe('function');
  });

  it('memjs calls sock() through the instance, so a sock set on the instance opens every socket', () => {
    const server = newServer();
    server.username = 'user';
    server.password = 'secret';
    const calls: boolean[] = [];
    server.sock = (sasl: boolean) => calls.push(sasl);
    server.listSasl();
    server.write(Buffer.alloc(0));
    expect(calls).toEqual([true, false]);
  });

  it('sock() with _socket set opens nothing: it queues go() until connected, and runs SASL writes at once', () => {
    const server = newServer();
    const socket = new net.Socket();
    opened.push(socket);
    server._socket = socket;
    const seen: string[] = [];
    server.sock(false, (s: net.Socket) => seen.push(s === socket ? 'queued' : 'other'));
    expect(seen).toEqual([]);
    expect(server.connectCallbacks).toHaveLength(1);
    server.sock(true, (s: net.Socket) => seen.push(s === socket ? 'sasl' : 'other'));
    expect(seen).toEqual(['sasl']);
    server.connected = true;
    server.sock(false, (s: net.Socket) => seen.push(s === socket ? 'ready' : 'other'));
    expect(seen).toEqual(['sasl', 'ready']);
    expect(server._socket).toBe(socket);
  });
});

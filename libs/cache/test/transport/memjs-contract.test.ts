import net from 'node:net';
import * as memjs from 'memjs';
import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import {
  decodeResponse,
  encodeRequest,
  Opcode,
  responseFrameLength,
} from '../../src/transport/binary-protocol.js';

/** The memjs Server internals transport/node-connection.ts uses (see transport/README.md). */
type ServerInternals = memjs.Server & {
  _socket?: net.Socket;
  username?: string;
  password?: string;
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
});

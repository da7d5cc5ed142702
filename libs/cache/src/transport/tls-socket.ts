import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type * as memjs from 'memjs';

/** TLS to memcached (memcached 1.6 started with `-Z`). Values as node:tls takes them. */
export interface CacheTlsOptions {
  /** PEM certificate(s) of the CA that signed the nodes' certificates. */
  ca: string | Buffer | Array<string | Buffer>;
  /** PEM client certificate, for nodes that require one (`ssl_verify_mode=2`). Default: none. */
  cert?: string | Buffer | undefined;
  /** PEM private key of `cert`. Default: none. */
  key?: string | Buffer | undefined;
  /** Name the node's certificate must carry. Default: the host of `'host:port'` (an IP is checked against IP SANs). */
  servername?: string | undefined;
  /** Refuse a node whose certificate the CA did not sign or whose name does not match. Default true. */
  rejectUnauthorized?: boolean | undefined;
}

/** The memjs `Server` fields memjs's own socket setup touches, which ours replays. */
export type MemjsSocketOwner = memjs.Server & {
  _socket?: Socket | undefined;
  connected: boolean;
  timeoutSet: boolean;
  connectCallbacks: Array<(socket: Socket) => void>;
  options: { conntimeout: number; keepAlive: boolean; keepAliveDelay: number };
  listSasl(): void;
};

type Sock = (sasl: boolean, go: (socket: Socket) => void) => void;

/**
 * Makes this memjs Server open its socket with `tls.connect` instead of `net.connect`. memjs 1.3
 * has no hook for either a TLS socket or a socket made elsewhere: `sock()` calls `net.connect`
 * itself when `_socket` is unset. So the instance's `sock` is replaced by one that opens the TLS
 * socket and sets it up exactly as memjs's first branch does (the same listeners, SASL kick-off,
 * connect timeout and keep-alive), and hands every other call (a socket already open or opening)
 * to memjs's own `sock`. Everything after the handshake is memjs's and ours as over TCP: only
 * servers built with TLS options get this, so the plaintext path has no extra layer.
 *
 * The connect timeout covers TCP, the TLS handshake and SASL, as it covers TCP and SASL in memjs.
 */
export function openSocketsOverTls(
  server: MemjsSocketOwner,
  host: string,
  port: number,
  tls: CacheTlsOptions,
): void {
  const memjsSock = server.sock.bind(server) as Sock;
  const sock: Sock = (sasl, go) => {
    if (server._socket) {
      memjsSock(sasl, go);
      return;
    }
    server.connected = false;
    const socket = tlsConnect(
      {
        host,
        port,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        servername: tls.servername,
        rejectUnauthorized: tls.rejectUnauthorized ?? true,
      },
      () => {
        server.once('authenticated', () => {
          const ready = server._socket;
          if (!ready) return;
          server.connected = true;
          ready.setTimeout(0);
          server.timeoutSet = false;
          go(ready);
          const waiting = server.connectCallbacks;
          server.connectCallbacks = [];
          for (const callback of waiting) callback(ready);
        });
        socket.on('data', (chunk: Buffer) => server.responseHandler(chunk));
        if (server.username && server.password) server.listSasl();
        else server.emit('authenticated');
      },
    );
    server._socket = socket;
    // A certificate the CA did not sign, a name mismatch, or a node that refuses our certificate
    // ends up here, as a refused TCP connection does in memjs.
    socket.on('error', (error) => server.error(error));
    socket.on('close', () => {
      server.connected = false;
      if (server.timeoutSet) {
        socket.setTimeout(0);
        server.timeoutSet = false;
      }
      if (server._socket === socket) server._socket = undefined;
    });
    server.timeoutSet = true;
    socket.setTimeout(server.options.conntimeout * 1000, () => {
      server.timeoutSet = false;
      if (server.connected) return;
      if (server._socket === socket) server._socket = undefined;
      socket.destroy();
      server.error(new Error('socket timed out connecting to server.'));
    });
    socket.setKeepAlive(server.options.keepAlive, server.options.keepAliveDelay * 1000);
  };
  server.sock = sock;
}

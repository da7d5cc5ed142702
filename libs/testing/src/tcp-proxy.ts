import net from 'node:net';

export interface TcpProxy {
  port: number;
  host: string;
  /** Resets every live connection and resets new ones until restore(): a network partition. */
  cut(): void;
  /**
   * Live connections stop carrying bytes but stay open, with no reset and no FIN: a peer gone
   * silent (a dropped route, a paused VM). New connections work.
   */
  freeze(): void;
  /**
   * freeze(), and every new connection until restore() is accepted but carries no bytes either:
   * a host gone silent, so a client cannot get past it by opening another connection.
   */
  silence(): void;
  /** New connections work again (live ones stay as cut, frozen or silenced). */
  restore(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy a test owns, so it can break one client's link without touching the server. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const links = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let isCut = false;
  let isSilent = false;

  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const server = net.createServer((client) => {
    if (isCut) {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    if (isSilent) {
      track(client);
      client.on('error', () => undefined);
      client.pause();
      return;
    }
    const upstream = net.connect(target);
    track(client);
    track(upstream);
    // Either side failing ends both, as a broken link would.
    const endBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', endBoth);
    upstream.on('error', endBoth);
    client.on('close', endBoth);
    upstream.on('close', endBoth);
    client.pipe(upstream);
    upstream.pipe(client);
    const link = { client, upstream };
    links.add(link);
    client.once('close', () => links.delete(link));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const address = server.address() as net.AddressInfo;

  const resetAll = (): void => {
    for (const socket of sockets) {
      if (!socket.destroyed) socket.resetAndDestroy();
    }
    sockets.clear();
  };

  const freezeLinks = (): void => {
    for (const { client, upstream } of links) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    links.clear();
  };

  return {
    host: '127.0.0.1',
    port: address.port,
    cut() {
      isCut = true;
      resetAll();
    },
    freeze: freezeLinks,
    silence() {
      freezeLinks();
      isSilent = true;
    },
    restore() {
      isCut = false;
      isSilent = false;
    },
    close() {
      resetAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

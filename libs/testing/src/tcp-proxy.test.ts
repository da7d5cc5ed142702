import { memcachedCommand } from './raw-memcached-client';
import { startMemcachedCluster, startTcpProxy, waitFor, type MemcachedCluster, type TcpProxy } from './index';
import net from 'node:net';

describe('startTcpProxy', () => {
  let cluster: MemcachedCluster;
  let proxy: TcpProxy;

  beforeAll(async () => {
    cluster = await startMemcachedCluster(1);
    proxy = await startTcpProxy({ host: '127.0.0.1', port: cluster.nodes[0]!.port });
  });

  afterAll(async () => {
    await proxy?.close();
    await cluster?.stop();
  });

  it('forwards traffic to its target', async () => {
    expect(proxy.port).not.toBe(cluster.nodes[0]!.port);
    expect(await memcachedCommand(proxy.port, 'set k 0 0 1\r\nv\r\n')).toBe('STORED\r\n');
    expect(await memcachedCommand(cluster.nodes[0]!.port, 'get k\r\n')).toBe('VALUE k 0 1\r\nv\r\nEND\r\n');
  });

  it('cut() breaks live connections and new ones until restore()', async () => {
    const live = net.connect({ host: proxy.host, port: proxy.port });
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()));
    live.on('error', () => undefined);
    await new Promise<void>((resolve) => live.once('connect', () => resolve()));
    live.write('version\r\n');
    await new Promise<void>((resolve) => live.once('data', () => resolve()));

    proxy.cut();
    await closed;
    await expect(memcachedCommand(proxy.port, 'version\r\n')).rejects.toThrow();
    // The server itself is unaffected.
    expect(await memcachedCommand(cluster.nodes[0]!.port, 'version\r\n')).toMatch(/^VERSION /);

    proxy.restore();
    expect(await memcachedCommand(proxy.port, 'get k\r\n')).toBe('VALUE k 0 1\r\nv\r\nEND\r\n');
  });

  it('closes a client whose target is down', async () => {
    const node = cluster.nodes[0]!;
    await node.stop();
    try {
      await expect(memcachedCommand(proxy.port, 'version\r\n')).rejects.toThrow();
    } finally {
      await node.start();
    }
    await waitFor(() => memcachedCommand(proxy.port, 'version\r\n'), {
      message: 'proxy to reach the restarted node',
    });
  });
});

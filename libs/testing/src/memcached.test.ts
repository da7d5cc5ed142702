import { existsSync } from 'node:fs';
import tls from 'node:tls';
import { memcachedCommand } from './raw-memcached-client';
import { startMemcachedCluster, type MemcachedCluster } from './index';

function set(port: number, key: string, value: string): Promise<string> {
  return memcachedCommand(port, `set ${key} 0 0 ${Buffer.byteLength(value)}\r\n${value}\r\n`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startMemcachedCluster', () => {
  let cluster: MemcachedCluster;

  beforeAll(async () => {
    cluster = await startMemcachedCluster(3);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts three nodes on distinct loopback ports that store and return values', async () => {
    expect(cluster.servers).toHaveLength(3);
    expect(new Set(cluster.servers).size).toBe(3);
    for (const node of cluster.nodes) {
      expect(node.server).toBe(`127.0.0.1:${node.port}`);
      expect(node.running).toBe(true);
      expect(await set(node.port, 'greeting', `hello ${node.port}`)).toBe('STORED\r\n');
      expect(await memcachedCommand(node.port, 'get greeting\r\n')).toBe(
        `VALUE greeting 0 ${`hello ${node.port}`.length}\r\nhello ${node.port}\r\nEND\r\n`,
      );
    }
  });

  it('stops a node by its pid, refuses connections, and restarts it empty on the same port', async () => {
    const node = cluster.nodes[1]!;
    const pid = node.pid!;
    await node.stop();
    expect(node.running).toBe(false);
    expect(node.pid).toBeUndefined();
    expect(isAlive(pid)).toBe(false);
    await expect(memcachedCommand(node.port, 'version\r\n')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // The other nodes are untouched.
    expect(await memcachedCommand(cluster.nodes[0]!.port, 'version\r\n')).toMatch(/^VERSION /);

    await node.start();
    expect(node.running).toBe(true);
    expect(node.pid).not.toBe(pid);
    expect(await memcachedCommand(node.port, 'get greeting\r\n')).toBe('END\r\n');
  });

  it('kill() ends a node with SIGKILL and start() brings it back', async () => {
    const node = cluster.nodes[2]!;
    const pid = node.pid!;
    await node.kill();
    expect(isAlive(pid)).toBe(false);
    await expect(memcachedCommand(node.port, 'version\r\n')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await node.start();
    expect(await memcachedCommand(node.port, 'version\r\n')).toMatch(/^VERSION /);
  });

  it('pause() leaves connections hanging and resume() answers them', async () => {
    const node = cluster.nodes[0]!;
    node.pause();
    try {
      await expect(memcachedCommand(node.port, 'version\r\n', 300)).rejects.toThrow(/no reply/);
      const pending = memcachedCommand(node.port, 'get greeting\r\n', 5_000);
      node.resume();
      expect(await pending).toMatch(/^VALUE greeting /);
    } finally {
      node.resume();
    }
  });

  it('stops a paused node', async () => {
    const extra = await startMemcachedCluster(1, { memoryMb: 8 });
    const [node] = extra.nodes;
    const pid = node!.pid!;
    node!.pause();
    await extra.stop();
    expect(isAlive(pid)).toBe(false);
  });
});

/** One ASCII command over TLS; resolves with the first line, or the error that ended the connection. */
function overTls(port: number, options: tls.ConnectionOptions, command: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => socket.write(command));
    let reply = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('timed out')));
    socket.on('error', (error) => resolve(`error: ${error.message}`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\r\n')) return;
      socket.end();
      resolve(reply.split('\r\n')[0] as string);
    });
  });
}

describe('startMemcachedCluster with tls', () => {
  let cluster: MemcachedCluster;

  beforeAll(async () => {
    cluster = await startMemcachedCluster(1, { tls: { requireClientCertificate: true } });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('serves TLS only, verifies against the CA it made, and requires the client certificate', async () => {
    const node = cluster.nodes[0]!;
    const tlsClient = cluster.tls!;
    expect(
      await overTls(node.port, { ca: tlsClient.ca, cert: tlsClient.cert, key: tlsClient.key }, 'version\r\n'),
    ).toMatch(/^VERSION /);
    expect(
      await overTls(
        node.port,
        { ca: tlsClient.ca, servername: 'localhost', cert: tlsClient.cert, key: tlsClient.key },
        'version\r\n',
      ),
    ).toMatch(/^VERSION /);
    expect(await overTls(node.port, { ca: tlsClient.ca }, 'version\r\n')).toMatch(
      /^error: .*certificate required/,
    );
    await expect(memcachedCommand(node.port, 'version\r\n')).rejects.toThrow();
  });

  it('restarts with the same certificates and removes them on stop', async () => {
    const node = cluster.nodes[0]!;
    const tlsClient = cluster.tls!;
    await node.kill();
    await node.start();
    expect(
      await overTls(node.port, { ca: tlsClient.ca, cert: tlsClient.cert, key: tlsClient.key }, 'version\r\n'),
    ).toMatch(/^VERSION /);
    await cluster.stop();
    expect(existsSync(tlsClient.certificates.dir)).toBe(false);
  });
});

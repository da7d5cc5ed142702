import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  createTestCertificates,
  startMemcachedCluster,
  waitFor,
  type MemcachedCluster,
  type TestCertificates,
} from '@memshop/testing';
import { Cache } from '../../src/cache-aside.js';
import type { CacheClusterOptions } from '../../src/cluster-options.js';
import { CacheCluster } from '../../src/cluster.js';
import { CacheConnectionError, CacheError } from '../../src/errors.js';
import { startSaslRecorder } from './sasl-recorder.js';

jest.setTimeout(60_000);

// Nothing here is about op timeouts: a starved 2-core box must not eject a healthy TLS node.
const OP_TIMEOUT_MS = 5_000;

let keyCounter = 0;
function freshKey(label: string): string {
  keyCounter += 1;
  return `test:tls:${label}:${process.pid}:${randomBytes(4).toString('hex')}:${keyCounter}`;
}

/** A promise whose resolution the test controls (a paused loader). */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const clusters: CacheCluster[] = [];
function newCluster(memcached: MemcachedCluster, opts: Partial<CacheClusterOptions>): CacheCluster {
  const cluster = new CacheCluster({ servers: memcached.servers, opTimeoutMs: OP_TIMEOUT_MS, ...opts });
  clusters.push(cluster);
  return cluster;
}

afterEach(async () => {
  await Promise.all(clusters.splice(0).map((cluster) => cluster.close()));
});

/**
 * A cluster that cannot talk to its nodes fails soft: every read gets the loader's value, the
 * nodes are ejected, and the reason logged for the ejection is `reason` (the refusal the test
 * meant, not some other failure).
 */
async function expectRefused(
  memcached: MemcachedCluster,
  opts: Partial<CacheClusterOptions>,
  reason: RegExp,
): Promise<void> {
  const ejections: string[] = [];
  const record = (fields: object, message?: string) => {
    if (message === 'memcached node ejected')
      ejections.push((fields as { err: { message: string } }).err.message);
  };
  const cluster = newCluster(memcached, {
    ejectAfterFailures: 2,
    logger: { debug: record, info: record, warn: record, error: record },
    ...opts,
  });
  const cache = new Cache({ cluster });
  let loads = 0;
  for (let i = 0; i < 5; i += 1) {
    const result = await cache.getOrLoad(freshKey('refused'), async () => {
      loads += 1;
      return 'from the database';
    });
    expect(result.value).toBe('from the database');
  }
  await cache.drain();
  expect(loads).toBe(5);
  await waitFor(() => cluster.status().every((node) => node.state === 'ejected'));
  await expect(cluster.get(freshKey('direct'))).rejects.toBeInstanceOf(CacheError);
  expect(ejections).toHaveLength(memcached.servers.length);
  for (const message of ejections) expect(message).toMatch(reason);
}

describe('CacheCluster over TLS (memcached -Z)', () => {
  let memcached: MemcachedCluster;

  beforeAll(async () => {
    memcached = await startMemcachedCluster(2, { tls: {} });
  });

  afterAll(async () => {
    await memcached?.stop();
  });

  const tlsCluster = (opts: Partial<CacheClusterOptions> = {}) =>
    newCluster(memcached, { tls: { ca: memcached.tls?.ca ?? '' }, ...opts });

  it('sets, gets, counts and deletes on every node', async () => {
    const cluster = tlsCluster();
    const keys = Array.from({ length: 20 }, () => freshKey('crud'));
    expect(new Set(keys.map((key) => cluster.nodeFor(key))).size).toBe(2);
    for (const key of keys) expect(await cluster.set(key, Buffer.from(`v:${key}`), 60)).toBe(true);
    for (const key of keys) expect((await cluster.get(key))?.value.toString()).toBe(`v:${key}`);
    const many = await cluster.getMany(keys);
    expect(many.found.size).toBe(20);
    expect(many.failed.size).toBe(0);
    const counter = freshKey('counter');
    expect(await cluster.incr(counter, 5, { initial: 1n, ttlSeconds: 60 })).toBe(1n);
    expect(await cluster.incr(counter, 5)).toBe(6n);
    for (const key of keys) expect(await cluster.delete(key)).toBe(true);
    for (const key of keys) expect(await cluster.get(key)).toBeNull();
    expect(cluster.status().map((node) => node.consecutiveFailures)).toEqual([0, 0]);
  });

  it('carries a value larger than one TLS record (16 KiB) intact', async () => {
    const cluster = tlsCluster();
    const key = freshKey('large');
    const value = randomBytes(200_000);
    expect(await cluster.set(key, value, 60)).toBe(true);
    expect((await cluster.get(key))?.value.equals(value)).toBe(true);
  });

  it('serves a miss from the loader, then a hit; an invalidation makes the next read load again', async () => {
    const cache = new Cache({ cluster: tlsCluster() });
    const key = freshKey('miss-hit');
    let loads = 0;
    const loader = async () => {
      loads += 1;
      return { name: `load ${loads}` };
    };
    expect(await cache.getOrLoad(key, loader)).toEqual({ value: { name: 'load 1' }, status: 'miss' });
    await cache.drain();
    expect(await cache.getOrLoad(key, loader)).toEqual({ value: { name: 'load 1' }, status: 'hit' });
    await cache.invalidate(key);
    expect((await cache.getOrLoad(key, loader)).value).toEqual({ name: 'load 2' });
    await cache.drain();
    expect(loads).toBe(2);
  });

  it('lets one of two processes hold the lease: the other waits for its value, one load in all', async () => {
    const holder = new Cache({ cluster: tlsCluster() });
    const waiter = new Cache({ cluster: tlsCluster(), lease: { leaseWaitMs: 30_000 } });
    const key = freshKey('lease');
    let loads = 0;
    const started = gate();
    const release = gate();
    const first = holder.getOrLoad(key, async () => {
      loads += 1;
      started.open();
      await release.promise;
      return 'loaded once';
    });
    await started.promise;
    const second = waiter.getOrLoad(key, async () => {
      loads += 1;
      return 'loaded twice';
    });
    release.open();
    expect((await first).value).toBe('loaded once');
    expect((await second).value).toBe('loaded once');
    await Promise.all([holder.drain(), waiter.drain()]);
    expect(loads).toBe(1);
  });

  it('reconnects over TLS after a node is killed and restarted', async () => {
    const cluster = tlsCluster({ connectTimeoutMs: 500, probeIntervalMs: 50, ejectAfterFailures: 2 });
    const node = memcached.nodes[0]!;
    const key = Array.from({ length: 50 }, () => freshKey('restart')).find(
      (candidate) => cluster.nodeFor(candidate) === node.server,
    ) as string;
    expect(await cluster.set(key, Buffer.from('before'), 60)).toBe(true);

    await node.kill();
    for (let i = 0; i < 5 && cluster.status()[0]?.state === 'up'; i += 1) {
      await cluster.get(key).catch((error: unknown) => expect(error).toBeInstanceOf(CacheError));
    }
    expect(cluster.status()[0]?.state).toBe('ejected');

    await node.start();
    await waitFor(() => cluster.status()[0]?.state === 'up');
    expect(await cluster.set(key, Buffer.from('after'), 60)).toBe(true);
    expect((await cluster.get(key))?.value.toString()).toBe('after');
  });

  it('refuses a node whose certificate another CA signed: requests go to the loader, the node is ejected', async () => {
    const other: TestCertificates = await createTestCertificates();
    try {
      await expectRefused(memcached, { tls: { ca: other.ca } }, /unable to verify|self.signed/i);
    } finally {
      await other.remove();
    }
  });

  it('accepts any certificate only when told to (rejectUnauthorized: false)', async () => {
    const other = await createTestCertificates();
    try {
      const cluster = tlsCluster({ tls: { ca: other.ca, rejectUnauthorized: false } });
      const key = freshKey('unverified');
      expect(await cluster.set(key, Buffer.from('encrypted, unverified'), 60)).toBe(true);
      expect((await cluster.get(key))?.value.toString()).toBe('encrypted, unverified');
    } finally {
      await other.remove();
    }
  });

  it('refuses a node whose certificate does not carry the expected name', async () => {
    await expectRefused(
      memcached,
      { tls: { ca: memcached.tls?.ca ?? '', servername: 'cache.example.invalid' } },
      /does not match|altnames/i,
    );
  });

  it('gives a client without tls no answer: requests go to the loader', async () => {
    await expectRefused(memcached, { connectTimeoutMs: 300, opTimeoutMs: 300 }, /ECONNRESET|closed/);
  });
});

describe('CacheCluster over mutual TLS (ssl_verify_mode=2)', () => {
  let memcached: MemcachedCluster;

  beforeAll(async () => {
    memcached = await startMemcachedCluster(1, { tls: { requireClientCertificate: true } });
  });

  afterAll(async () => {
    await memcached?.stop();
  });

  it('works with the client certificate the CA signed', async () => {
    const tls = memcached.tls!;
    const cluster = newCluster(memcached, { tls: { ca: tls.ca, cert: tls.cert, key: tls.key } });
    const key = freshKey('mtls');
    expect(await cluster.set(key, Buffer.from('mutual'), 60)).toBe(true);
    expect((await cluster.get(key))?.value.toString()).toBe('mutual');
  });

  it('is refused without a client certificate: requests go to the loader', async () => {
    await expectRefused(memcached, { tls: { ca: memcached.tls?.ca ?? '' } }, /certificate required/);
  });

  it('is refused with a client certificate another CA signed', async () => {
    const other = await createTestCertificates();
    try {
      await expectRefused(
        memcached,
        { tls: { ca: memcached.tls?.ca ?? '', cert: other.clientCert, key: other.clientKey } },
        /unknown ca/,
      );
    } finally {
      await other.remove();
    }
  });
});

describe('CacheCluster SASL inside TLS', () => {
  let certificates: TestCertificates;
  let identity: { cert: string; key: string };

  beforeAll(async () => {
    certificates = await createTestCertificates();
    identity = {
      cert: await readFile(certificates.serverCertFile, 'utf8'),
      key: await readFile(certificates.serverKeyFile, 'utf8'),
    };
  });

  afterAll(async () => {
    await certificates?.remove();
  });

  it('authenticates once the handshake is done, before the first request', async () => {
    const recorder = await startSaslRecorder('s3cret', identity);
    const cluster = new CacheCluster({
      servers: [recorder.server],
      username: 'memshop',
      password: 's3cret',
      tls: { ca: certificates.ca },
    });
    try {
      expect(await cluster.get('k')).toBeNull();
      expect(recorder.frames.map((f) => f.opcode)).toEqual([0x20, 0x21, 0x00]);
      expect(recorder.frames[1]?.body).toBe('PLAIN\u0000memshop\u0000s3cret');
    } finally {
      await cluster.close();
      await recorder.close();
    }
  });

  it('fails the request when the node rejects the credentials', async () => {
    const recorder = await startSaslRecorder('s3cret', identity);
    const cluster = new CacheCluster({
      servers: [recorder.server],
      username: 'memshop',
      password: 'wrong',
      tls: { ca: certificates.ca },
    });
    try {
      await expect(cluster.get('k')).rejects.toBeInstanceOf(CacheConnectionError);
    } finally {
      await cluster.close();
      await recorder.close();
    }
  });
});

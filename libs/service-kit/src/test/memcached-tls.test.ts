import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import { z } from 'zod';
import { createCacheRuntime } from '../cache-runtime';
import { ConfigError, parseConfig, serviceEnvShape } from '../config';
import { createLogger } from '../logger';
import { readMemcachedTls } from '../memcached-tls';
import { createServiceMetrics } from '../metrics';

describe('readMemcachedTls', () => {
  let dir: string;
  let files: { ca: string; cert: string; key: string };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'memcached-tls-config-'));
    files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
    writeFileSync(files.ca, 'CA PEM');
    writeFileSync(files.cert, 'CERT PEM');
    writeFileSync(files.key, 'KEY PEM SECRET');
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function problemsOf(config: Parameters<typeof readMemcachedTls>[0]): string {
    try {
      readMemcachedTls(config);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).message;
    }
    throw new Error('expected a ConfigError');
  }

  it('is off (plain TCP) unless the CA file is set', () => {
    expect(readMemcachedTls({})).toBeUndefined();
  });

  it('reads the CA alone, or the CA with a client certificate and key', () => {
    expect(readMemcachedTls({ MEMCACHED_TLS_CA_FILE: files.ca })).toEqual({
      ca: Buffer.from('CA PEM'),
      cert: undefined,
      key: undefined,
    });
    expect(
      readMemcachedTls({
        MEMCACHED_TLS_CA_FILE: files.ca,
        MEMCACHED_TLS_CERT_FILE: files.cert,
        MEMCACHED_TLS_KEY_FILE: files.key,
      }),
    ).toEqual({
      ca: Buffer.from('CA PEM'),
      cert: Buffer.from('CERT PEM'),
      key: Buffer.from('KEY PEM SECRET'),
    });
  });

  it('refuses a certificate without its key, and a client certificate without a CA', () => {
    expect(problemsOf({ MEMCACHED_TLS_CA_FILE: files.ca, MEMCACHED_TLS_CERT_FILE: files.cert })).toMatch(
      /MEMCACHED_TLS_CERT_FILE and MEMCACHED_TLS_KEY_FILE: set both or neither/,
    );
    expect(problemsOf({ MEMCACHED_TLS_CERT_FILE: files.cert, MEMCACHED_TLS_KEY_FILE: files.key })).toMatch(
      /need MEMCACHED_TLS_CA_FILE/,
    );
  });

  it('names an unreadable file by its variable and never prints a file', () => {
    const message = problemsOf({
      MEMCACHED_TLS_CA_FILE: files.ca,
      MEMCACHED_TLS_CERT_FILE: files.cert,
      MEMCACHED_TLS_KEY_FILE: join(dir, 'missing.key'),
    });
    expect(message).toMatch(/MEMCACHED_TLS_KEY_FILE: cannot read the file \(ENOENT\)/);
    expect(message).not.toMatch(/PEM/);
  });
});

describe('createCacheRuntime with MEMCACHED_TLS_* (real memcached -Z requiring a client certificate)', () => {
  let memcached: MemcachedCluster;

  beforeAll(async () => {
    memcached = await startMemcachedCluster(1, { tls: { requireClientCertificate: true } });
  });

  afterAll(async () => {
    await memcached?.stop();
  });

  it('connects over mutual TLS with the files the env names', async () => {
    const certificates = memcached.tls!.certificates;
    const config = parseConfig(z.object(serviceEnvShape), {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused',
      MEMCACHED_SERVERS: memcached.servers.join(','),
      RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:1',
      MEMCACHED_OP_TIMEOUT_MS: '5000',
      MEMCACHED_TLS_CA_FILE: certificates.caFile,
      MEMCACHED_TLS_CERT_FILE: certificates.clientCertFile,
      MEMCACHED_TLS_KEY_FILE: certificates.clientKeyFile,
    });
    const runtime = createCacheRuntime({
      service: 'catalog',
      config,
      logger: createLogger({ service: 'catalog', level: 'silent' }),
      registry: createServiceMetrics('catalog', { defaultMetrics: false }).registry,
      prisma: {
        $queryRawUnsafe: async () => [],
        $executeRawUnsafe: async () => 0,
        $disconnect: async () => {},
      },
      bindings: ['catalog.#'],
    });
    try {
      expect(await runtime.cluster.set('tls:runtime', Buffer.from('over mutual TLS'), 60)).toBe(true);
      expect((await runtime.cluster.get('tls:runtime'))?.value.toString()).toBe('over mutual TLS');
    } finally {
      for (const closer of runtime.closers) await closer.close();
    }
  });
});

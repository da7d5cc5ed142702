import { z } from 'zod';
import {
  ConfigError,
  keySpaceListEnv,
  parseConfig,
  portSchema,
  redactConfig,
  serviceEnvShape,
} from '../config';
import { redactUrl } from '../redact';

const schema = z.object({ ...serviceEnvShape, PORT: portSchema(3001) });
const validEnv = {
  DATABASE_URL: 'postgresql://app:s3cret@127.0.0.1:5432/catalog',
  MEMCACHED_SERVERS: '127.0.0.1:11211, 127.0.0.1:11212',
  RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672',
};

describe('parseConfig', () => {
  it('returns typed config with defaults', () => {
    const config = parseConfig(schema, validEnv);
    expect(config.PORT).toBe(3001);
    expect(config.MEMCACHED_SERVERS).toEqual(['127.0.0.1:11211', '127.0.0.1:11212']);
    expect(config.MEMCACHED_GUTTER_SERVERS).toEqual([]);
    expect(config.OTEL_TRACES_EXPORTER).toBe('none');
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.INVALIDATION_EXCHANGE).toBe('memshop.invalidation');
    expect(config.CACHE_SCHEMA_VERSION).toBe(1);
  });

  it('names every bad variable and never prints a value', () => {
    const env = {
      ...validEnv,
      DATABASE_URL: 'mysql://root:topsecret@db/x',
      MEMCACHED_SERVERS: 'cache-without-port',
      PORT: 'eighty',
      RABBITMQ_URL: undefined,
    };
    let error: unknown;
    try {
      parseConfig(schema, env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(message).toMatch(/MEMCACHED_SERVERS: entries must be host:port/);
    expect(message).toMatch(/PORT:/);
    expect(message).toMatch(/RABBITMQ_URL: is required/);
    expect(message).not.toContain('topsecret');
    expect(message).not.toContain('cache-without-port');
  });

  it('rejects an unknown tracing exporter', () => {
    expect(() => parseConfig(schema, { ...validEnv, OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(
      /OTEL_TRACES_EXPORTER/,
    );
  });
});

describe('keySpaceListEnv', () => {
  const copies = z.object({ COPIES: keySpaceListEnv('order:product:v1') });

  it('reads a comma-separated list of key spaces, its default, or none', () => {
    expect(parseConfig(copies, {}).COPIES.map((s) => s.prefix)).toEqual(['order:product:v1:']);
    expect(parseConfig(copies, { COPIES: ' a:b:v1 , c:d:v2,' }).COPIES.map((s) => s.prefix)).toEqual([
      'a:b:v1:',
      'c:d:v2:',
    ]);
    expect(parseConfig(copies, { COPIES: '' }).COPIES).toEqual([]);
  });

  it('rejects a name of another shape, without printing it', () => {
    let error: unknown;
    try {
      parseConfig(copies, { COPIES: 'order:product:v1,secret-looking' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/COPIES: must be a comma-separated list of <prefix>:<entity>:v<schemaVersion>/);
    expect(message).not.toContain('secret-looking');
  });
});

describe('redaction', () => {
  it('masks URL passwords and secret-named values', () => {
    expect(redactUrl('amqp://guest:guest@127.0.0.1:5672')).toBe('amqp://guest:***@127.0.0.1:5672');
    expect(redactUrl('postgresql://127.0.0.1/db')).toBe('postgresql://127.0.0.1/db');
    const redacted = redactConfig({ ...parseConfig(schema, validEnv), MEMCACHED_PASSWORD: 'pw' });
    expect(JSON.stringify(redacted)).not.toMatch(/s3cret|guest@|"pw"/);
  });
});

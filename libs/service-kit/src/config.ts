import { hostname } from 'node:os';
import { parseKeySpace, type KeySpace } from '@memshop/cache';
import { z } from 'zod';
import { rateLimitEnvShape } from './rate-limit-config';
import { redactUrl } from './redact';

/** A bad or missing env var. The message names the variables, never their values. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** TCP port with a default, e.g. `PORT: portSchema(3001)`. */
export function portSchema(defaultPort: number) {
  return z.coerce.number().int().min(1).max(65_535).default(defaultPort);
}

/** A switch, e.g. `CACHE_NEAR_ENABLED: booleanEnv(false)`: true/false or 1/0. */
export function booleanEnv(defaultValue: boolean) {
  return z
    .enum(['true', 'false', '1', '0'])
    .default(defaultValue ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
}

/**
 * Cache key spaces named by a comma-separated list, e.g. `INVALIDATION_PRODUCT_COPIES:
 * keySpaceListEnv('order:product:v1')`; an empty value names none.
 */
export function keySpaceListEnv(defaultValue: string) {
  return z
    .string()
    .default(defaultValue)
    .transform((text, ctx): KeySpace[] => {
      const names = text
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== '');
      try {
        return names.map(parseKeySpace);
      } catch {
        // The message names the expected shape, not the value (ConfigError's rule).
        ctx.addIssue({
          code: 'custom',
          message: 'must be a comma-separated list of <prefix>:<entity>:v<schemaVersion>',
        });
        return z.NEVER;
      }
    });
}

/** An http(s) URL, e.g. CATALOG_URL. */
export const httpUrlSchema = z
  .string()
  .url({ message: 'must be an http(s) URL' })
  .refine((v) => /^https?:\/\//.test(v), { message: 'must be an http(s) URL' });

const serverPattern = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/**
 * Comma-separated `host:port` list. The port is required because hashring drops a default
 * `:11211` and every service must build the same ring from the same strings.
 */
export const serverListSchema = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .refine((list) => list.length > 0, { message: 'needs at least one host:port' })
  .refine((list) => list.every((s) => serverPattern.test(s)), { message: 'entries must be host:port' });

const optionalServerList = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .refine((list) => list.every((s) => serverPattern.test(s)), { message: 'entries must be host:port' });

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

/**
 * The env vars every service reads (docs/architecture.md). A service builds its schema with
 * `z.object({ ...serviceEnvShape, PORT: portSchema(3001), ADMIN_PORT: portSchema(9101) })`.
 */
export const serviceEnvShape = {
  DATABASE_URL: z
    .string({ message: 'is required' })
    .refine((v) => /^postgres(ql)?:\/\//.test(v), { message: 'must be a postgres:// URL' }),
  MEMCACHED_SERVERS: serverListSchema,
  RABBITMQ_URL: z
    .string({ message: 'is required' })
    .refine((v) => /^amqps?:\/\//.test(v), { message: 'must be an amqp:// URL' }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MEMCACHED_GUTTER_SERVERS: optionalServerList,
  MEMCACHED_USERNAME: z.preprocess(emptyAsUndefined, z.string().optional()),
  MEMCACHED_PASSWORD: z.preprocess(emptyAsUndefined, z.string().optional()),
  /**
   * TLS to memcached (nodes started with -Z): PEM files, read at start. TLS is on when the CA file
   * is set; the certificate and key are for nodes that require a client certificate.
   */
  MEMCACHED_TLS_CA_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  MEMCACHED_TLS_CERT_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  MEMCACHED_TLS_KEY_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  /**
   * Per memcached operation, ms. 150 in production (a LAN round trip is well under 1 ms, so a
   * slower answer means the node is in trouble); suites that starve memcached of CPU raise it.
   */
  MEMCACHED_OP_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(150),
  /**
   * A request's time budget from arrival, ms: a wait for a value another instance is loading (its
   * lease) and a call to a neighbour service end by it, so a slow holder or neighbour costs a
   * request at most this long in waiting before it does the work itself or answers 503.
   */
  REQUEST_DEADLINE_MS: z.coerce.number().int().min(50).max(60_000).default(3000),
  CACHE_SCHEMA_VERSION: z.coerce.number().int().min(1).default(1),
  OTEL_TRACES_EXPORTER: z.enum(['none', 'console', 'otlp']).default('none'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyAsUndefined, httpUrlSchema.optional()),
  INVALIDATION_EXCHANGE: z.string().min(1).default('memshop.invalidation'),
  /**
   * This service's quorum queue; default memshop.<service>.invalidation.quorum (the classic
   * memshop.<service>.invalidation of earlier versions is retired on start). Tests and
   * side-by-side stacks override it.
   */
  INVALIDATION_QUEUE: z.preprocess(emptyAsUndefined, z.string().min(1).max(200).optional()),
  /** Redeliveries of a failing event before it is parked (quorum queue x-delivery-limit). */
  INVALIDATION_DELIVERY_LIMIT: z.coerce.number().int().min(1).max(1000).default(20),
  /** Staleness auditor: ids sampled per namespace per pass, pause between passes, recheck delay. 0 samples = off. */
  CACHE_AUDIT_SAMPLE_SIZE: z.coerce.number().int().min(0).max(10_000).default(20),
  CACHE_AUDIT_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  CACHE_AUDIT_GRACE_MS: z.coerce.number().int().min(0).default(5000),
  SERVICE_INSTANCE_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  ...rateLimitEnvShape,
};

/** Parses env with the schema; throws ConfigError naming every bad variable. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  // Zod's messages describe the expected type, not the received value, so secrets stay out.
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(env)';
    const missing = issue.code === 'invalid_type' && env[name] === undefined;
    return `${name}: ${missing ? 'is required' : issue.message}`;
  });
  throw new ConfigError(problems);
}

/** parseConfig for a composition root: prints the problem and exits 1 instead of throwing. */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

const secretKey = /PASSWORD|SECRET|TOKEN|KEY/i;

/** The config as it is safe to log: URL passwords and *PASSWORD*-like values masked. */
export function redactConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value !== undefined && secretKey.test(key)) out[key] = '***';
    else if (typeof value === 'string' && value.includes('://')) out[key] = redactUrl(value);
    else out[key] = value;
  }
  return out;
}

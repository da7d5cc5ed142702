import { createHash } from 'node:crypto';
import type { CacheCluster } from '@memshop/cache';
import type { Request, RequestHandler, Response } from 'express';
import { match } from 'path-to-regexp';
import type { Logger } from 'pino';
import { RateLimiterMemcache, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { principalOf } from './auth/principal';
import { TooManyRequestsError } from './errors';
import { MemcachedRateLimitStore } from './memcached-rate-limit-store';
import type { ServiceMetrics } from './metrics';

export interface RateLimitSettings {
  windowSeconds: number;
  /** Requests per window from one client address. */
  perClient: number;
  /** Requests per window for one token subject. */
  perSubject: number;
}

export interface RequestRateLimitsOptions {
  service: string;
  cluster: CacheCluster;
  settings: RateLimitSettings;
  logger: Logger;
  metrics: Pick<ServiceMetrics, 'rateLimitRejections'>;
}

export type RateLimitScope = 'client' | 'subject';

/** A request the limits turned away: which budget ran out and when it refills. */
export interface RateLimitRejection {
  scope: RateLimitScope;
  retryAfterSeconds: number;
}

/**
 * The per-client and per-subject budgets of one service, counted in memcached so every
 * instance spends from the same budget (RateLimiterMemcache over MemcachedRateLimitStore).
 * Each has an in-process RateLimiterMemory as rate-limiter-flexible's insurance limiter: while
 * memcached fails, each instance counts alone (the limit is then per instance, so N replicas
 * admit up to N times as much) instead of letting everything through or failing requests.
 */
export class RequestRateLimits {
  readonly #limiters: Record<RateLimitScope, RateLimiterMemcache>;
  readonly #metrics: Pick<ServiceMetrics, 'rateLimitRejections'>;
  readonly #logger: Logger;

  constructor({ service, cluster, settings, logger, metrics }: RequestRateLimitsOptions) {
    const store = new MemcachedRateLimitStore(cluster);
    const limiter = (scope: RateLimitScope, points: number) =>
      new RateLimiterMemcache({
        storeClient: store,
        keyPrefix: `memshop:${service}:ratelimit:${scope}`,
        points,
        duration: settings.windowSeconds,
        insuranceLimiter: new RateLimiterMemory({ points, duration: settings.windowSeconds }),
      });
    this.#limiters = {
      client: limiter('client', settings.perClient),
      subject: limiter('subject', settings.perSubject),
    };
    this.#logger = logger;
    this.#metrics = metrics;
  }

  /**
   * Spends one request from the client's budget and, when the caller is known, the subject's.
   * Null when the request may go on. A limiter that fails even in memory lets the request
   * through: the limits protect the service, they must not be what takes it down.
   */
  async spend(client: string, subject?: string): Promise<RateLimitRejection | null> {
    const overClient = await this.spendFrom('client', client);
    if (overClient || !subject) return overClient;
    return this.spendFrom('subject', subject);
  }

  /** Spends one request from one budget: `key` is the client address or the token subject. */
  async spendFrom(scope: RateLimitScope, key: string): Promise<RateLimitRejection | null> {
    try {
      await this.#limiters[scope].consume(counterKey(key));
      return null;
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        this.#metrics.rateLimitRejections.inc({ scope });
        return { scope, retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
      }
      this.#logger.warn({ err, scope }, 'rate limiter failed; request let through');
      return null;
    }
  }
}

/**
 * Memcached keys are printable ASCII without spaces, at most 250 bytes; an IPv6 address or a
 * decimal user id passes as is (readable in `stats cachedump`), anything else is hashed.
 */
function counterKey(value: string): string {
  if (/^[A-Za-z0-9.:_-]{1,64}$/.test(value)) return value;
  return `#${createHash('sha256').update(value).digest('base64url')}`;
}

export interface RateLimitRouterOptions {
  limits: RequestRateLimits;
  /**
   * GET routes (Express patterns) that reach the database on every request. Cached reads are
   * not limited: a hit costs the service next to nothing, and the load suites and benchmarks
   * drive them at full speed from one address.
   */
  uncachedReads?: string[];
  /**
   * The verified subject of the request, or undefined for an anonymous one. It runs after
   * `authenticate`, so the default reads the principal it verified (principalOf): never an
   * unverified claim, since a forged `sub` would spend someone else's budget.
   */
  subjectOf?: (req: Request, res: Response) => string | undefined | Promise<string | undefined>;
  /**
   * Path prefixes that never spend (whatever the method): endpoints only another service calls,
   * whose calls the user's request at that service has already paid for.
   */
  exemptPrefixes?: string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The subject budget a verified principal spends from: a user by id, a service by name. */
export function principalSubject(_req: Request, res: Response): string | undefined {
  const principal = principalOf(res);
  if (!principal) return undefined;
  return principal.kind === 'user' ? String(principal.id) : `service:${principal.name}`;
}

/**
 * Spends from one of the limits (`scope`) on every write (any method but GET, HEAD, OPTIONS)
 * and on the listed uncached reads; a request over a limit gets 429 with Retry-After and the
 * usual JSON error body. The client router keys by address; the subject router by subjectOf,
 * and lets anonymous requests pass (the client budget has already counted them).
 */
export function rateLimitRouter(
  { limits, uncachedReads = [], subjectOf = principalSubject, exemptPrefixes = [] }: RateLimitRouterOptions,
  scope: RateLimitScope,
): RequestHandler {
  const keyOf = async (req: Request, res: Response): Promise<string | undefined> =>
    scope === 'client'
      ? (req.ip ?? req.socket.remoteAddress ?? 'unknown')
      : Promise.resolve(subjectOf(req, res)).catch(() => undefined);
  const spend: RequestHandler = async (req, res, next) => {
    const key = await keyOf(req, res);
    const rejection = key === undefined ? null : await limits.spendFrom(scope, key);
    if (!rejection) {
      next();
      return;
    }
    res.setHeader('Retry-After', String(rejection.retryAfterSeconds));
    next(
      new TooManyRequestsError(
        `too many requests for this ${rejection.scope === 'client' ? 'client address' : 'token subject'}; retry after ${rejection.retryAfterSeconds} s`,
      ),
    );
  };
  // The uncached reads' paths, matched by Express's own matcher (path-to-regexp, with a Router's
  // defaults) but without a Router's dispatch, which would cost every read: the hot cached path
  // is let through by these checks alone. Like a Router, it ignores a route path's trailing slashes.
  const uncachedRead = uncachedReads.map((path) =>
    match(path === '/' ? path : path.replace(/\/+$/, ''), { decode: false }),
  );
  return (req, res, next) => {
    if (exemptPrefixes.length > 0 && exemptPrefixes.some((prefix) => req.path.startsWith(prefix))) {
      next();
      return undefined;
    }
    if (!SAFE_METHODS.has(req.method)) return spend(req, res, next);
    // A Router's `get` route: GET and HEAD, not OPTIONS.
    if (req.method !== 'OPTIONS' && uncachedRead.some((matches) => matches(req.path) !== false)) {
      return spend(req, res, next);
    }
    next();
    return undefined;
  };
}

import { z } from 'zod';

/**
 * The env vars of the request rate limits (request-rate-limits.ts), part of serviceEnvShape.
 * Defaults are for production: 300 writes or uncached reads a minute from one address (5/s,
 * room for an office behind one NAT) and 120 a minute for one token subject (2/s: far more
 * than a person placing orders or editing a profile, far less than a script draining stock).
 * Suites that drive load through one address raise them (libs/testing relaxedRateLimitEnv).
 */
export const rateLimitEnvShape = {
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  RATE_LIMIT_PER_CLIENT: z.coerce.number().int().min(1).max(1_000_000_000).default(300),
  RATE_LIMIT_PER_SUBJECT: z.coerce.number().int().min(1).max(1_000_000_000).default(120),
};

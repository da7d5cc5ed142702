import { CacheCodecError } from './errors.js';

export { DEFAULT_MAX_VALUE_BYTES } from './transport/binary-protocol.js';

/**
 * Bumped when the envelope's shape changes. An entry written by another format version reads as
 * corrupt (a miss) instead of being misread, so old and new code can share a cluster during a
 * rolling deploy.
 */
export const FORMAT_VERSION = 1;

/** What every cached value is wrapped in. Times are epoch milliseconds. */
export interface CacheEnvelope<T = unknown> {
  v: number;
  storedAt: number;
  /** Soft expiry: after it the value is served stale while one caller refreshes it. */
  freshUntil: number;
  /** Hard expiry of serving stale (stale-while-revalidate / stale-if-error limit). */
  staleUntil: number;
  /** Stale-if-error limit: until then the value may be served when the loader fails. */
  graceUntil?: number;
  /** The entity's version (row version), so a write-through keeps the newer of two values. */
  version?: number;
  /** The loader found nothing: `data` is null and the "not found" is what is cached. */
  negative?: boolean;
  data: T;
}

export type EnvelopeFields<T> = Omit<CacheEnvelope<T>, 'v'>;

export type DecodeResult<T = unknown> =
  { ok: true; envelope: CacheEnvelope<T> } | { ok: false; reason: string };

/** Throws CacheCodecError for values JSON cannot carry (BigInt, cycles). */
export function encodeEnvelope<T>(fields: EnvelopeFields<T>): Buffer {
  const envelope: CacheEnvelope<T> = {
    v: FORMAT_VERSION,
    storedAt: fields.storedAt,
    freshUntil: fields.freshUntil,
    staleUntil: fields.staleUntil,
    ...(fields.graceUntil === undefined ? {} : { graceUntil: fields.graceUntil }),
    ...(fields.version === undefined ? {} : { version: fields.version }),
    ...(fields.negative ? { negative: true } : {}),
    // JSON drops undefined properties; null keeps `data` present so the entry decodes.
    data: fields.data === undefined ? (null as T) : fields.data,
  };
  try {
    return Buffer.from(JSON.stringify(envelope), 'utf8');
  } catch (error) {
    throw new CacheCodecError(`cannot encode cache value: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Never throws: whatever is in memcached (garbage, a truncated write, another format version, a
 * lease placeholder, a value a poisoner put there) comes back as `{ ok: false }`, which callers
 * treat as a miss. The shape of `data` itself is the caller's to validate.
 */
export function decodeEnvelope<T = unknown>(buffer: Buffer): DecodeResult<T> {
  if (buffer.length === 0) return { ok: false, reason: 'empty' };
  if (isLease(buffer)) return { ok: false, reason: 'lease' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(buffer.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not json' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'not an object' };
  }
  const entry = parsed as Record<string, unknown>;
  if (entry.v !== FORMAT_VERSION) return { ok: false, reason: `format version ${String(entry.v)}` };
  if (!isFiniteNumber(entry.storedAt)) return { ok: false, reason: 'bad storedAt' };
  if (!isFiniteNumber(entry.freshUntil)) return { ok: false, reason: 'bad freshUntil' };
  if (!isFiniteNumber(entry.staleUntil)) return { ok: false, reason: 'bad staleUntil' };
  if ((entry.staleUntil as number) < (entry.freshUntil as number)) {
    return { ok: false, reason: 'staleUntil before freshUntil' };
  }
  if (entry.graceUntil !== undefined && !isFiniteNumber(entry.graceUntil)) {
    return { ok: false, reason: 'bad graceUntil' };
  }
  if (entry.version !== undefined && !isFiniteNumber(entry.version))
    return { ok: false, reason: 'bad version' };
  if (entry.negative !== undefined && typeof entry.negative !== 'boolean') {
    return { ok: false, reason: 'bad negative' };
  }
  if (!('data' in entry)) return { ok: false, reason: 'no data' };
  if (entry.negative === true && entry.data !== null)
    return { ok: false, reason: 'negative entry with data' };
  return { ok: true, envelope: entry as unknown as CacheEnvelope<T> };
}

/*
 * A lease placeholder starts with a NUL byte, which no JSON text can start with, so a lease is
 * never mistaken for a value and a value never for a lease.
 */
const LEASE_MAGIC = Buffer.from('\u0000msl1:', 'latin1');

/** The placeholder a loader `add`s under a key while it loads (see lease.ts). */
export function encodeLease(token: string): Buffer {
  return Buffer.concat([LEASE_MAGIC, Buffer.from(token, 'utf8')]);
}

export function isLease(buffer: Buffer): boolean {
  // The first byte settles it for every value (JSON never starts with NUL), without a slice.
  return (
    buffer[0] === 0 &&
    buffer.length >= LEASE_MAGIC.length &&
    buffer.subarray(0, LEASE_MAGIC.length).equals(LEASE_MAGIC)
  );
}

/** The token of a lease placeholder, null when `buffer` is not one. */
export function leaseToken(buffer: Buffer): string | null {
  return isLease(buffer) ? buffer.subarray(LEASE_MAGIC.length).toString('utf8') : null;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

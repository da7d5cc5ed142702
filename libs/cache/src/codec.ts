import { crc32 } from 'node:zlib';
import { CacheCodecError } from './errors.js';

export { DEFAULT_MAX_VALUE_BYTES } from './transport/binary-protocol.js';

/**
 * Bumped when the entry's layout changes. An entry written by another format version reads as
 * corrupt (a miss, reloaded; a write-through deletes it rather than guess its version) instead
 * of being misread, so old and new code can share a cluster during a rolling deploy. Version 1 was a JSON envelope around the value; version 2 keeps the metadata
 * in a fixed binary header beside the value's own JSON bytes, so a hit can be served as stored.
 */
export const FORMAT_VERSION = 2;

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

/** An entry checked but not parsed: its metadata and the value's JSON bytes (a view, not a copy). */
export type RawDecodeResult = { ok: true; envelope: CacheEnvelope<Buffer> } | { ok: false; reason: string };

/*
 * Layout (big-endian):
 *   0  magic 0xCE     1  format version     2  flags     3  reserved (0)
 *   4  CRC-32 of bytes 8..end (every field after it, and the body)
 *   8  body length (uint32)    12 reserved (0)
 *  16  storedAt  24 freshUntil  32 staleUntil  40 graceUntil  48 version   (float64, NaN = absent)
 *  56  body: the value's JSON text, `null` for a negative entry
 * The magic is neither NUL (a lease placeholder) nor `{` (a version 1 envelope). The CRC makes a
 * truncated, bit-flipped or hand-edited entry corrupt without parsing the body; zlib's CRC-32
 * runs at several GB/s, so a 1 kB value costs well under a microsecond.
 */
const MAGIC = 0xce;
const HEADER_BYTES = 56;
const CHECKED_FROM = 8;
const FLAG_NEGATIVE = 1;
const KNOWN_FLAGS = FLAG_NEGATIVE;
const JSON_NULL = Buffer.from('null');

/** Throws CacheCodecError for values JSON cannot carry (BigInt, cycles). */
export function encodeEnvelope<T>(fields: EnvelopeFields<T>): Buffer {
  let json: string;
  try {
    // JSON drops undefined; null keeps the body a JSON text.
    json = fields.negative || fields.data === undefined ? 'null' : (JSON.stringify(fields.data) ?? 'null');
  } catch (error) {
    throw new CacheCodecError(`cannot encode cache value: ${(error as Error).message}`, { cause: error });
  }
  const bodyBytes = Buffer.byteLength(json, 'utf8');
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + bodyBytes);
  buffer[0] = MAGIC;
  buffer[1] = FORMAT_VERSION;
  buffer[2] = fields.negative ? FLAG_NEGATIVE : 0;
  buffer[3] = 0;
  buffer.writeUInt32BE(bodyBytes, 8);
  buffer.writeUInt32BE(0, 12);
  buffer.writeDoubleBE(fields.storedAt, 16);
  buffer.writeDoubleBE(fields.freshUntil, 24);
  buffer.writeDoubleBE(fields.staleUntil, 32);
  buffer.writeDoubleBE(fields.graceUntil ?? Number.NaN, 40);
  buffer.writeDoubleBE(fields.version ?? Number.NaN, 48);
  buffer.write(json, HEADER_BYTES, 'utf8');
  buffer.writeUInt32BE(crc32(buffer.subarray(CHECKED_FROM)), 4);
  return buffer;
}

/**
 * Checks an entry without parsing its value: layout, format version, length, CRC and the
 * metadata's invariants. Never throws: whatever is in memcached (garbage, a truncated write,
 * another format version, a lease placeholder) comes back as `{ ok: false }`, which callers
 * treat as a miss. The body is JSON as far as the writer's JSON.stringify made it so; its shape
 * is the caller's to validate.
 */
export function decodeEnvelopeRaw(buffer: Buffer): RawDecodeResult {
  if (buffer.length === 0) return { ok: false, reason: 'empty' };
  if (isLease(buffer)) return { ok: false, reason: 'lease' };
  if (buffer.length < HEADER_BYTES || buffer[0] !== MAGIC) return { ok: false, reason: 'not an entry' };
  if (buffer[1] !== FORMAT_VERSION) return { ok: false, reason: `format version ${String(buffer[1])}` };
  const flags = buffer[2] as number;
  if ((flags & ~KNOWN_FLAGS) !== 0 || buffer[3] !== 0) return { ok: false, reason: 'unknown flags' };
  if (buffer.readUInt32BE(8) !== buffer.length - HEADER_BYTES) return { ok: false, reason: 'wrong length' };
  if (crc32(buffer.subarray(CHECKED_FROM)) !== buffer.readUInt32BE(4))
    return { ok: false, reason: 'bad checksum' };
  const storedAt = buffer.readDoubleBE(16);
  const freshUntil = buffer.readDoubleBE(24);
  const staleUntil = buffer.readDoubleBE(32);
  const graceUntil = buffer.readDoubleBE(40);
  const version = buffer.readDoubleBE(48);
  if (!Number.isFinite(storedAt)) return { ok: false, reason: 'bad storedAt' };
  if (!Number.isFinite(freshUntil)) return { ok: false, reason: 'bad freshUntil' };
  if (!Number.isFinite(staleUntil)) return { ok: false, reason: 'bad staleUntil' };
  if (staleUntil < freshUntil) return { ok: false, reason: 'staleUntil before freshUntil' };
  if (!Number.isNaN(graceUntil) && !Number.isFinite(graceUntil))
    return { ok: false, reason: 'bad graceUntil' };
  if (!Number.isNaN(version) && !Number.isFinite(version)) return { ok: false, reason: 'bad version' };
  const body = buffer.subarray(HEADER_BYTES);
  const negative = (flags & FLAG_NEGATIVE) !== 0;
  if (negative && !body.equals(JSON_NULL)) return { ok: false, reason: 'negative entry with data' };
  const envelope: CacheEnvelope<Buffer> = { v: FORMAT_VERSION, storedAt, freshUntil, staleUntil, data: body };
  if (!Number.isNaN(graceUntil)) envelope.graceUntil = graceUntil;
  if (!Number.isNaN(version)) envelope.version = version;
  if (negative) envelope.negative = true;
  return { ok: true, envelope };
}

/** decodeEnvelopeRaw, then the body parsed. Never throws. */
export function decodeEnvelope<T = unknown>(buffer: Buffer): DecodeResult<T> {
  const raw = decodeEnvelopeRaw(buffer);
  if (!raw.ok) return raw;
  let data: unknown;
  try {
    data = JSON.parse(raw.envelope.data.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not json' };
  }
  return { ok: true, envelope: { ...raw.envelope, data: data as T } };
}

/*
 * A lease placeholder starts with a NUL byte, which no entry starts with, so a lease is never
 * mistaken for a value and a value never for a lease.
 */
const LEASE_MAGIC = Buffer.from('\u0000msl1:', 'latin1');

/** The placeholder a loader `add`s under a key while it loads (see lease.ts). */
export function encodeLease(token: string): Buffer {
  return Buffer.concat([LEASE_MAGIC, Buffer.from(token, 'utf8')]);
}

export function isLease(buffer: Buffer): boolean {
  // The first byte settles it for every value (an entry never starts with NUL), without a slice.
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

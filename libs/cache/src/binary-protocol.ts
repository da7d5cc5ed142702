import * as memjs from 'memjs';

/**
 * The slice of memcached's binary protocol the cluster speaks
 * (https://github.com/memcached/memcached/wiki/BinaryProtocolRevamped). memjs frames the
 * requests and parses the responses; CAS, quiet gets and 64-bit counters it has no API for are
 * built here.
 */
export const Opcode = {
  get: 0x00,
  set: 0x01,
  add: 0x02,
  delete: 0x04,
  increment: 0x05,
  decrement: 0x06,
  flush: 0x08,
  noop: 0x0a,
  version: 0x0b,
  getk: 0x0c,
  getkq: 0x0d,
} as const;

export const Status = {
  ok: 0x0000,
  keyNotFound: 0x0001,
  keyExists: 0x0002,
  valueTooLarge: 0x0003,
  invalidArguments: 0x0004,
  itemNotStored: 0x0005,
  nonNumericValue: 0x0006,
  authError: 0x0020,
  unknownCommand: 0x0081,
  outOfMemory: 0x0082,
  busy: 0x0085,
} as const;

/** Item size limit of a default memcached (`-I 1m`), less room for the key and item header. */
export const DEFAULT_MAX_VALUE_BYTES = 1_000_000;
export const MAX_KEY_BYTES = 250;
/** Relative TTLs above 30 days are read by memcached as a Unix timestamp. */
export const MAX_RELATIVE_TTL_SECONDS = 60 * 60 * 24 * 30;
/** Expiration of an increment that must fail on a missing key instead of creating it. */
const INCR_NO_CREATE = 0xffffffff;

export interface Response {
  status: number;
  opaque: number;
  cas: bigint;
  extras: Buffer;
  key: Buffer;
  value: Buffer;
}

export function toResponse(message: memjs.Response): Response {
  const cas = message.header.cas;
  return {
    status: message.header.status,
    opaque: message.header.opaque,
    cas: Buffer.isBuffer(cas) && cas.length === 8 ? cas.readBigUInt64BE(0) : 0n,
    extras: message.extras,
    key: message.key,
    // memjs hands out slices of its whole read buffer; a copy lets that buffer be collected.
    value: Buffer.from(message.val),
  };
}

export interface Request {
  opcode: number;
  key?: string;
  extras?: Buffer;
  value?: Buffer;
  /** Compare-and-swap: the store only succeeds if the item's CAS still equals this. */
  cas?: bigint;
}

export function encodeRequest(request: Request, opaque: number): Buffer {
  const frame = memjs.Utils.makeRequestBuffer(
    request.opcode,
    request.key ?? '',
    request.extras ?? Buffer.alloc(0),
    request.value ?? Buffer.alloc(0),
    opaque,
  );
  // memjs's request builder has no CAS argument; header bytes 16..23 carry it.
  if (request.cas !== undefined && request.cas !== 0n) frame.writeBigUInt64BE(request.cas, 16);
  return frame;
}

export function storeExtras(flags: number, ttlSeconds: number): Buffer {
  const extras = Buffer.alloc(8);
  extras.writeUInt32BE(flags >>> 0, 0);
  extras.writeUInt32BE(expiration(ttlSeconds), 4);
  return extras;
}

export function incrementExtras(delta: bigint, initial: bigint, ttlSeconds: number | undefined): Buffer {
  const extras = Buffer.alloc(20);
  extras.writeBigUInt64BE(delta, 0);
  extras.writeBigUInt64BE(initial, 8);
  extras.writeUInt32BE(ttlSeconds === undefined ? INCR_NO_CREATE : expiration(ttlSeconds), 16);
  return extras;
}

function expiration(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) return 0;
  return Math.min(Math.ceil(ttlSeconds), 0xfffffffe);
}

/** Flags of a GET response (0 when the server sent no extras). */
export function responseFlags(response: Response): number {
  return response.extras.length >= 4 ? response.extras.readUInt32BE(0) : 0;
}

export function statusText(status: number): string {
  const name = Object.entries(Status).find(([, code]) => code === status)?.[0];
  return `${name ?? 'unknown status'} (0x${status.toString(16).padStart(4, '0')})`;
}

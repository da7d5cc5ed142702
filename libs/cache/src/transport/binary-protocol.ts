/**
 * The slice of memcached's binary protocol the cluster speaks
 * (https://github.com/memcached/memcached/wiki/BinaryProtocolRevamped). memjs opens the
 * connections and does SASL; requests and responses are framed here, in one buffer each way
 * (memjs copies every read into a new buffer and builds requests from four), and CAS, quiet gets
 * and 64-bit counters, which memjs has no API for, come with it.
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
  /** Quiet set: answered only when it fails (CAS mismatch, too large, ...). */
  setq: 0x11,
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

/** Opcodes of the SASL handshake memjs runs on a new connection. */
export const SaslOpcode = { listMechanisms: 0x20, authenticate: 0x21 } as const;

export const HEADER_BYTES = 24;
const REQUEST_MAGIC = 0x80;

/** Total length of the response frame starting at `offset`, or -1 while its header is incomplete. */
export function responseFrameLength(buffer: Buffer, offset: number): number {
  return buffer.length - offset < HEADER_BYTES ? -1 : HEADER_BYTES + buffer.readUInt32BE(offset + 8);
}

/**
 * The response in `buffer[offset, offset + length)`. Extras, key and value are views into
 * `buffer`; the value is copied when it is a small part of it (one read holding a whole getMany
 * batch), so a kept value does not pin the rest. A read holding one response is used as is.
 */
export function decodeResponse(buffer: Buffer, offset: number, length: number): Response {
  const keyLength = buffer.readUInt16BE(offset + 2);
  const extrasLength = buffer[offset + 4] as number;
  const extrasStart = offset + HEADER_BYTES;
  const keyStart = extrasStart + extrasLength;
  const valueStart = keyStart + keyLength;
  const end = offset + length;
  const value = buffer.subarray(Math.min(valueStart, end), end);
  return {
    status: buffer.readUInt16BE(offset + 6),
    opaque: buffer.readUInt32BE(offset + 12),
    cas: buffer.readBigUInt64BE(offset + 16),
    extras: buffer.subarray(extrasStart, Math.min(keyStart, end)),
    key: buffer.subarray(Math.min(keyStart, end), Math.min(valueStart, end)),
    value: value.length * 2 >= buffer.buffer.byteLength ? value : Buffer.from(value),
  };
}

export interface Request {
  opcode: number;
  key?: string;
  extras?: Buffer;
  value?: Buffer;
  /** Compare-and-swap: the store only succeeds if the item's CAS still equals this. */
  cas?: bigint | undefined;
}

/**
 * One request frame, built in a single buffer (memjs's builder allocates the header, the key
 * and empty extras/value separately, then copies them together, and has no CAS argument).
 */
export function encodeRequest(request: Request, opaque: number): Buffer {
  const key = request.key ?? '';
  const keyBytes = Buffer.byteLength(key, 'utf8');
  const extrasBytes = request.extras === undefined ? 0 : request.extras.length;
  const valueBytes = request.value === undefined ? 0 : request.value.length;
  const bodyBytes = extrasBytes + keyBytes + valueBytes;
  const frame = Buffer.allocUnsafe(HEADER_BYTES + bodyBytes);
  frame[0] = REQUEST_MAGIC;
  frame[1] = request.opcode;
  frame.writeUInt16BE(keyBytes, 2);
  frame[4] = extrasBytes;
  frame[5] = 0; // data type
  frame.writeUInt16BE(0, 6); // vbucket
  frame.writeUInt32BE(bodyBytes, 8);
  frame.writeUInt32BE(opaque >>> 0, 12);
  if (request.cas === undefined || request.cas === 0n) {
    frame.writeUInt32BE(0, 16);
    frame.writeUInt32BE(0, 20);
  } else {
    frame.writeBigUInt64BE(request.cas, 16);
  }
  let offset = HEADER_BYTES;
  if (extrasBytes > 0) offset += (request.extras as Buffer).copy(frame, offset);
  if (keyBytes > 0) offset += frame.write(key, offset, keyBytes, 'utf8');
  if (valueBytes > 0) (request.value as Buffer).copy(frame, offset);
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

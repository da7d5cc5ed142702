import { crc32 } from 'node:zlib';
import {
  decodeEnvelope,
  decodeEnvelopeRaw,
  encodeEnvelope,
  encodeLease,
  FORMAT_VERSION,
  isLease,
  leaseToken,
} from '../src/codec.js';
import { CacheCodecError } from '../src/errors.js';

const times = { storedAt: 1000, freshUntil: 2000, staleUntil: 3000 };

describe('codec', () => {
  it('round-trips an envelope with its format version', () => {
    const buffer = encodeEnvelope({ ...times, graceUntil: 4000, version: 3, data: { id: 1, name: 'x' } });
    const decoded = decodeEnvelope<{ id: number; name: string }>(buffer);
    expect(decoded).toEqual({
      ok: true,
      envelope: { v: FORMAT_VERSION, ...times, graceUntil: 4000, version: 3, data: { id: 1, name: 'x' } },
    });
  });

  it('round-trips a negative entry', () => {
    const decoded = decodeEnvelope(encodeEnvelope({ ...times, negative: true, data: null }));
    expect(decoded.ok && decoded.envelope.negative).toBe(true);
  });

  const valid = () => encodeEnvelope({ ...times, version: 7, data: { a: 'b'.repeat(100) } });
  /** A copy of a valid entry with `edit` applied. */
  const edited = (edit: (b: Buffer) => void) => {
    const b = Buffer.from(valid());
    edit(b);
    return b;
  };
  /** A copy with its CRC recomputed after `edit`: the header's own rules must catch it. */
  const resealed = (edit: (b: Buffer) => void) =>
    edited((b) => {
      edit(b);
      b.writeUInt32BE(crc32(b.subarray(8)), 4);
    });

  it.each([
    ['garbage bytes', Buffer.from([0xff, 0xfe, 0x00, 0x12])],
    ['empty', Buffer.alloc(0)],
    ['shorter than the header', valid().subarray(0, 20)],
    ['truncated', valid().subarray(0, 80)],
    ['cut by one byte', valid().subarray(0, valid().length - 1)],
    ['one byte too many', Buffer.concat([valid(), Buffer.from(' ')])],
    ['a version 1 JSON envelope', Buffer.from(JSON.stringify({ v: 1, ...times, data: 1 }))],
    ['wrong format version', edited((b) => (b[1] = FORMAT_VERSION + 1))],
    ['unknown flags', edited((b) => (b[2] = 0x80))],
    ['wrong magic', edited((b) => (b[0] = 0x7b))],
    ['a flipped body bit', edited((b) => (b[60] = (b[60] as number) ^ 1))],
    ['a changed expiry', edited((b) => b.writeDoubleBE(9e12, 24))],
    ['a changed checksum', edited((b) => b.writeUInt32BE((b.readUInt32BE(4) + 1) >>> 0, 4))],
    ['a wrong body length', resealed((b) => b.writeUInt32BE(3, 8))],
    ['a non-finite time', resealed((b) => b.writeDoubleBE(Number.POSITIVE_INFINITY, 24))],
    ['a missing time', resealed((b) => b.writeDoubleBE(Number.NaN, 16))],
    ['stale before fresh', resealed((b) => b.writeDoubleBE(1, 32))],
    ['a negative entry with data', resealed((b) => (b[2] = 1))],
    ['a body that is not JSON', resealed((b) => b.write('[', 56))],
    ['lease placeholder', encodeLease('tok')],
  ])('reports %s as corrupt without throwing', (_name, buffer) => {
    const decoded = decodeEnvelope(buffer);
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? '' : decoded.reason).not.toBe('');
  });

  it('serves the stored JSON bytes of an entry without parsing them', () => {
    const data = { id: 1, name: 'é', tags: ['a'] };
    const decoded = decodeEnvelopeRaw(encodeEnvelope({ ...times, graceUntil: 4000, version: 3, data }));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.envelope.data.equals(Buffer.from(JSON.stringify(data), 'utf8'))).toBe(true);
    expect({ ...decoded.envelope, data: null }).toEqual({
      v: FORMAT_VERSION,
      ...times,
      graceUntil: 4000,
      version: 3,
      data: null,
    });
  });

  it('checks entries on the raw path like the decoded one, body JSON aside', () => {
    expect(decodeEnvelopeRaw(valid().subarray(0, 80)).ok).toBe(false);
    expect(decodeEnvelopeRaw(edited((b) => (b[60] = (b[60] as number) ^ 1))).ok).toBe(false);
    expect(decodeEnvelopeRaw(encodeLease('x')).ok).toBe(false);
  });

  it('throws a typed error for values JSON cannot carry', () => {
    expect(() => encodeEnvelope({ ...times, data: { n: 1n } })).toThrow(CacheCodecError);
  });

  it('tells lease placeholders from values', () => {
    const lease = encodeLease('abc123');
    expect(isLease(lease)).toBe(true);
    expect(leaseToken(lease)).toBe('abc123');
    const value = encodeEnvelope({ ...times, data: 'x' });
    expect(isLease(value)).toBe(false);
    expect(leaseToken(value)).toBeNull();
    expect(isLease(Buffer.alloc(0))).toBe(false);
  });
});

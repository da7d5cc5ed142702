import {
  decodeEnvelope,
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

  it.each([
    ['garbage bytes', Buffer.from([0xff, 0xfe, 0x00, 0x12])],
    ['empty', Buffer.alloc(0)],
    ['truncated', encodeEnvelope({ ...times, data: { a: 'b'.repeat(100) } }).subarray(0, 50)],
    ['wrong format version', Buffer.from(JSON.stringify({ v: FORMAT_VERSION + 1, ...times, data: 1 }))],
    ['no version', Buffer.from(JSON.stringify({ ...times, data: 1 }))],
    ['array', Buffer.from('[1,2]')],
    ['json null', Buffer.from('null')],
    [
      'string time',
      Buffer.from(JSON.stringify({ v: FORMAT_VERSION, ...times, freshUntil: '2000', data: 1 })),
    ],
    ['no data', Buffer.from(JSON.stringify({ v: FORMAT_VERSION, ...times }))],
    [
      'stale before fresh',
      Buffer.from(JSON.stringify({ v: FORMAT_VERSION, ...times, staleUntil: 1, data: 1 })),
    ],
    [
      'bad negative',
      Buffer.from(JSON.stringify({ v: FORMAT_VERSION, ...times, negative: 'yes', data: null })),
    ],
    ['lease placeholder', encodeLease('tok')],
  ])('reports %s as corrupt without throwing', (_name, buffer) => {
    const decoded = decodeEnvelope(buffer);
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? '' : decoded.reason).not.toBe('');
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

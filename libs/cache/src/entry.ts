import { decodeEnvelope, decodeEnvelopeRaw, encodeEnvelope, encodeLease, leaseToken } from './codec.js';

/**
 * What Cache stores under a key, in its own terms. On the wire it is codec.ts's entry:
 * `graceUntil` is the envelope's `staleUntil` (the last moment the value may be served at all);
 * the stale-while-revalidate window is `freshUntil + staleSeconds` of the reading call, capped
 * by it, so changing `staleSeconds` takes effect without rewriting entries.
 */
export interface CacheEntry<T> {
  /** null = negative entry (the loader found nothing) */
  value: T | null;
  /** epoch ms: fresh (a hit) until then */
  freshUntil: number;
  /** epoch ms: until then the value may be served stale (SWR window, stale-if-error) */
  graceUntil: number;
  /** epoch ms the value was read from the source (the gap rule distrusts older entries) */
  storedAt: number;
  /** writeThrough's version; a write never replaces a newer one */
  version?: number;
}

/** A cached value still in its stored form: the JSON text its writer produced, not parsed. */
export class StoredJson {
  readonly bytes: Buffer;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }
}

export type DecodedItem =
  | { kind: 'entry'; entry: CacheEntry<unknown> }
  | { kind: 'lease'; token: string }
  | { kind: 'corrupt'; reason: string };

/** Serialisation of entries and lease placeholders; injectable for tests and other formats. */
export interface EntryCodec {
  encodeEntry(entry: CacheEntry<unknown>): Buffer;
  encodeLease(token: string): Buffer;
  /** Never throws: garbage is `corrupt`. */
  decode(raw: Buffer): DecodedItem;
  /**
   * Optional: like decode, but an entry's value is a StoredJson of its JSON bytes, checked and
   * not parsed (what `getOrLoadJson` serves). Without it, raw reads decode and re-serialise.
   */
  decodeJson?(raw: Buffer): DecodedItem;
}

function item(
  e: { storedAt: number; freshUntil: number; staleUntil: number; version?: number; negative?: boolean },
  value: unknown,
): DecodedItem {
  const entry: CacheEntry<unknown> = {
    value: e.negative ? null : value,
    freshUntil: e.freshUntil,
    graceUntil: e.staleUntil,
    storedAt: e.storedAt,
  };
  if (e.version !== undefined) entry.version = e.version;
  return { kind: 'entry', entry };
}

export const defaultEntryCodec: EntryCodec = Object.freeze({
  encodeEntry(entry: CacheEntry<unknown>): Buffer {
    return encodeEnvelope({
      storedAt: entry.storedAt,
      freshUntil: entry.freshUntil,
      staleUntil: entry.graceUntil,
      ...(entry.version === undefined ? {} : { version: entry.version }),
      ...(entry.value === null ? { negative: true } : {}),
      data: entry.value,
    });
  },
  encodeLease,
  decode(raw: Buffer): DecodedItem {
    const token = leaseToken(raw);
    if (token !== null) return { kind: 'lease', token };
    const result = decodeEnvelope(raw);
    if (!result.ok) return { kind: 'corrupt', reason: result.reason };
    return item(result.envelope, result.envelope.data);
  },
  decodeJson(raw: Buffer): DecodedItem {
    const token = leaseToken(raw);
    if (token !== null) return { kind: 'lease', token };
    const result = decodeEnvelopeRaw(raw);
    if (!result.ok) return { kind: 'corrupt', reason: result.reason };
    return item(result.envelope, new StoredJson(result.envelope.data));
  },
});

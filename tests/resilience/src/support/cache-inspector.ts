import { type CacheCluster } from '@memshop/cache';
import { defaultEntryCodec } from '@memshop/cache/advanced';

export type RawEntry =
  | { kind: 'absent' }
  | { kind: 'lease' }
  | { kind: 'corrupt' }
  | { kind: 'entry'; value: unknown; version?: number };

/** What memcached itself holds under a key, read past every cache logic (the ground truth of "cached"). */
export async function readRawEntry(cluster: CacheCluster, key: string): Promise<RawEntry> {
  const item = await cluster.get(key);
  if (!item) return { kind: 'absent' };
  const decoded = defaultEntryCodec.decode(item.value);
  if (decoded.kind === 'lease') return { kind: 'lease' };
  if (decoded.kind === 'corrupt') return { kind: 'corrupt' };
  return { kind: 'entry', value: decoded.entry.value, version: decoded.entry.version };
}

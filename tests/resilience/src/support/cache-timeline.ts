import * as diagnosticsChannel from 'node:diagnostics_channel';
import type { InvalidationEvent } from '@memshop/cache';
import { CACHE_CHANNELS } from '@memshop/service-kit';

/** Recent lines kept: a few rounds of the torture's traffic, enough to explain one stale key. */
const KEEP = 20_000;

/**
 * What every cache in this process did, in order (failed operations, populates, purges, events
 * published and consumed), read from the library's diagnostics channels: when a check finds a
 * stale entry, the lines about its key and entity say which write or event came too late.
 */
export interface CacheTimeline {
  /** The lines naming any of `needles` (a key, `product:7`), oldest first. */
  about(...needles: string[]): string[];
  close(): void;
}

export function recordCacheTimeline(): CacheTimeline {
  const names = CACHE_CHANNELS;
  const lines: string[] = [];
  const started = performance.now();
  const add = (line: string) => {
    lines.push(`${(performance.now() - started).toFixed(1)}ms ${line}`);
    if (lines.length > KEEP) lines.splice(0, lines.length - KEEP);
  };
  const eventText = (event: InvalidationEvent) =>
    `${event.source}.${event.entity}:${event.entityId} v${event.version ?? '?'} id=${event.id}`;
  const subscribers: Array<[string, (message: unknown) => void]> = [
    [
      names.error,
      (m) => {
        const { op, key, error } = m as { op: string; key?: string; error: unknown };
        add(`error ${op} ${key ?? ''} ${error instanceof Error ? error.name : String(error)}`);
      },
    ],
    [
      names.populate,
      (m) => {
        const { key, result } = m as { key: string; result: string };
        add(`populate ${key} ${result}`);
      },
    ],
    [names.invalidate, (m) => add(`invalidate ${(m as { keys: string[] }).keys.join(',')}`)],
    [
      names.publish,
      (m) => {
        const { event, ok } = m as { event: InvalidationEvent; ok: boolean };
        add(`published ${eventText(event)} ok=${ok}`);
      },
    ],
    [
      names.consume,
      (m) => {
        const { event, ok, duplicate } = m as { event: InvalidationEvent; ok: boolean; duplicate: boolean };
        add(`consumed ${eventText(event)} ok=${ok} duplicate=${duplicate}`);
      },
    ],
  ];
  for (const [name, fn] of subscribers) diagnosticsChannel.subscribe(name, fn);
  return {
    about: (...needles) => {
      // `product:1` must not match `product:12`.
      const patterns = needles.map((n) => new RegExp(`${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!\\d)`));
      return lines.filter((line) => patterns.some((p) => p.test(line)));
    },
    close: () => {
      for (const [name, fn] of subscribers) diagnosticsChannel.unsubscribe(name, fn);
    },
  };
}

import { randomUUID } from 'node:crypto';
import { injectTraceHeaders } from './tracing.js';

export type InvalidationAction = 'created' | 'updated' | 'deleted';

/** One committed change, as published on the bus (docs/architecture.md). */
export interface InvalidationEvent {
  /** uuid, for idempotent consumers */
  id: string;
  /** service that made the change, e.g. 'catalog' */
  source: string;
  entity: string;
  action: InvalidationAction;
  entityId: string;
  version?: number;
  /** ISO time the writer stamped it, in its transaction just before the outbox INSERT */
  occurredAt: string;
  /** trace context (traceparent) of the write */
  headers?: Record<string, string>;
}

export type NewInvalidationEvent = Omit<InvalidationEvent, 'id' | 'occurredAt'> &
  Partial<Pick<InvalidationEvent, 'id' | 'occurredAt'>>;

/** Fills id, occurredAt and the active trace context. */
export function createInvalidationEvent(
  fields: NewInvalidationEvent,
  now: number = Date.now(),
): InvalidationEvent {
  return {
    ...fields,
    id: fields.id ?? randomUUID(),
    occurredAt: fields.occurredAt ?? new Date(now).toISOString(),
    headers: { ...injectTraceHeaders(), ...fields.headers },
  };
}

/** `<service>.<entity>.<action>`, e.g. `catalog.product.updated`. */
export function invalidationRoutingKey(
  event: Pick<InvalidationEvent, 'source' | 'entity' | 'action'>,
): string {
  return `${event.source}.${event.entity}.${event.action}`;
}

const ACTIONS = new Set<string>(['created', 'updated', 'deleted']);

/** Why a consumed message is not an event; the text goes with it into the parking queue. */
export type InvalidationDecodeResult = { ok: true; event: InvalidationEvent } | { ok: false; reason: string };

/** Shape check of a consumed message, saying what is wrong when it fails. */
export function decodeInvalidationEvent(content: Buffer): InvalidationDecodeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(content.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const e = raw as Record<string, unknown>;
  for (const field of ['id', 'source', 'entity', 'entityId', 'occurredAt']) {
    if (typeof e[field] !== 'string' || (e[field] as string).length === 0) {
      return { ok: false, reason: `field ${field} is not a non-empty string` };
    }
  }
  if (typeof e.action !== 'string' || !ACTIONS.has(e.action)) {
    return { ok: false, reason: 'field action is not created, updated or deleted' };
  }
  if (e.version !== undefined && typeof e.version !== 'number') {
    return { ok: false, reason: 'field version is not a number' };
  }
  return { ok: true, event: raw as InvalidationEvent };
}

/** The event, or null when the message is not one (see decodeInvalidationEvent for why). */
export function parseInvalidationEvent(content: Buffer): InvalidationEvent | null {
  const decoded = decodeInvalidationEvent(content);
  return decoded.ok ? decoded.event : null;
}

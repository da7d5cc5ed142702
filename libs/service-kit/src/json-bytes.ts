import type { Response } from 'express';

/**
 * Sends JSON text that is already serialised (a cache hit's stored bytes) as `res.json` would
 * send the value: the same Content-Type, and through `res.send`, so Content-Length, ETag,
 * conditional GETs and HEAD behave the same. Skips the parse and stringify of a round trip.
 */
export function sendJsonBytes(res: Response, json: Buffer): void {
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.send(json);
}

import express, { type RequestHandler } from 'express';

/**
 * JSON body parser with a size limit: a larger body is a 413 and malformed JSON a 400
 * (errorHandler maps body-parser's error types). Non-JSON content types leave `req.body`
 * undefined, which the route's schema then rejects with a 400.
 */
export function jsonBody(limit: string | number = '100kb'): RequestHandler {
  return express.json({ limit, strict: true });
}

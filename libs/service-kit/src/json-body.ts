import express, { type RequestHandler } from 'express';

/**
 * JSON body parser with a size limit: a larger body is a 413 and malformed JSON a 400
 * (errorHandler maps body-parser's error types). Non-JSON content types leave `req.body`
 * undefined, which the route's schema then rejects with a 400.
 */
export function jsonBody(limit: string | number = '100kb'): RequestHandler {
  const parse = express.json({ limit, strict: true });
  // GET, HEAD and OPTIONS carry no body any route reads: the hot reads skip the parser's checks.
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') {
      next();
      return undefined;
    }
    return parse(req, res, next);
  };
}

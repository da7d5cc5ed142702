import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { setPrincipal } from './principal';
import { InvalidTokenError, VerificationUnavailableError, type TokenVerifier } from './token-verifier';

/** The realm every service names in its challenges: one issuer, one set of users. */
const REALM = 'memshop';

// RFC 6750 section 2.1: "Bearer" 1*SP b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * RFC 6750 section 3: 401 with `WWW-Authenticate: Bearer`; no error code when no token was sent
 * (the client simply has to authenticate), `invalid_token` when the one sent is not accepted.
 */
export function sendUnauthorized(res: Response, description?: string): void {
  const challenge = description
    ? `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`
    : `Bearer realm="${REALM}"`;
  res
    .status(401)
    .set('WWW-Authenticate', challenge)
    .json({ error: { code: 'unauthorized', message: description ?? 'a bearer token is required' } });
}

/** RFC 6750 section 3.1: the token is valid but does not carry the right to do this. */
export function sendForbidden(res: Response, message: string): void {
  res
    .status(403)
    .set('WWW-Authenticate', `Bearer realm="${REALM}", error="insufficient_scope"`)
    .json({ error: { code: 'forbidden', message } });
}

/**
 * Verifies the bearer token when the request carries one and records who sent it
 * (principalOf(res)). No token: the request goes on anonymously, and the route's guard decides
 * (public catalog reads need none). A token that is sent must be valid, also on a public route,
 * so a client learns its token expired instead of being served as anonymous.
 */
export function authenticate(verifier: TokenVerifier, logger: Logger): RequestHandler {
  const verify = async (header: string, res: Response, next: NextFunction): Promise<void> => {
    const token = BEARER.exec(header)?.[1];
    if (!token) {
      sendUnauthorized(res, 'the Authorization header is not "Bearer <token>"');
      return;
    }
    try {
      setPrincipal(res, await verifier.verify(token));
    } catch (err) {
      if (err instanceof InvalidTokenError) {
        sendUnauthorized(res, err.message);
        return;
      }
      if (err instanceof VerificationUnavailableError) {
        logger.warn({ err }, 'token keys unavailable');
        res.status(503).json({
          error: { code: 'unavailable', message: 'tokens cannot be verified right now, try again later' },
        });
        return;
      }
      throw err;
    }
    next();
  };
  // Not async itself: an anonymous request (every public read) costs no promise.
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    if (header === undefined) {
      next();
      return undefined;
    }
    return verify(header, res, next);
  };
}

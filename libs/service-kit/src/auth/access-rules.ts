import type { Request, RequestHandler } from 'express';
import { sendForbidden, sendUnauthorized } from './authenticate';
import { isAdminUser, principalOf, type Principal } from './principal';

/** Whether `principal` may go on with `req`; guards combine these. */
export type AccessRule = (principal: Principal, req: Request) => boolean;

export const isAdmin: AccessRule = (principal) => isAdminUser(principal);

export const isAnyUser: AccessRule = (principal) => principal.kind === 'user';

/** The user whose id is the path parameter `param` (as written: `/users/7` is user 7 only). */
export function isSelf(param = 'id'): AccessRule {
  return (principal, req) => principal.kind === 'user' && req.params[param] === String(principal.id);
}

/** Another service, by the name its token was signed for. */
export function isService(name: string): AccessRule {
  return (principal) => principal.kind === 'service' && principal.name === name;
}

/**
 * A route guard: no token is a 401 (authenticate already answered for a bad one), a token that
 * no rule accepts is a 403. Checked before the handler runs, so before any cache read.
 */
export function allow(...rules: AccessRule[]): RequestHandler {
  return (req, res, next) => {
    const principal = principalOf(res);
    if (!principal) {
      sendUnauthorized(res);
      return;
    }
    if (!rules.some((rule) => rule(principal, req))) {
      sendForbidden(res, `${describe(principal)} may not ${req.method} ${req.path}`);
      return;
    }
    next();
  };
}

export const requireUser = (): RequestHandler => allow(isAnyUser);
export const requireAdmin = (): RequestHandler => allow(isAdmin);
export const requireSelfOrAdmin = (param = 'id'): RequestHandler => allow(isSelf(param), isAdmin);
export const requireService = (name: string): RequestHandler => allow(isService(name));

function describe(principal: Principal): string {
  return principal.kind === 'service' ? `service ${principal.name}` : `user ${principal.id}`;
}

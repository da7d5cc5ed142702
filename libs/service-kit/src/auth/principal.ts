import type { Response } from 'express';

/** A person, from a user token: `sub` is the user id, `roles` e.g. ["admin"]. */
export interface UserPrincipal {
  kind: 'user';
  id: number;
  roles: readonly string[];
}

/** Another memshop service, from a service token it signed with its own key. */
export interface ServicePrincipal {
  kind: 'service';
  name: string;
}

export type Principal = UserPrincipal | ServicePrincipal;

export const ADMIN_ROLE = 'admin';

/** Who sent the request, as `authenticate` verified it; undefined when no token came with it. */
export function principalOf(res: Response): Principal | undefined {
  return res.locals['principal'] as Principal | undefined;
}

export function setPrincipal(res: Response, principal: Principal): void {
  res.locals['principal'] = principal;
}

export function isAdminUser(principal: Principal | undefined): boolean {
  return principal?.kind === 'user' && principal.roles.includes(ADMIN_ROLE);
}

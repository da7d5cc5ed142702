import {
  allow,
  deadlineOf,
  idSchema,
  isAdmin,
  isSelf,
  isService,
  NotFoundError,
  ORDER_SERVICE,
  requireAdmin,
  requireSelfOrAdmin,
  sendJsonBytes,
  setCacheHeader,
} from '@memshop/service-kit';
import { Router } from 'express';
import type { UserService } from '../domain/user-service';
import { createUserSchema, idsQuerySchema, updateUserSchema } from './schemas';

/**
 * A user reads, changes and deletes only their own record; an admin any. order-service's service
 * token may read a user (it copies the name into orders), nothing else. Accounts are created by
 * an admin: memshop has no sign-in of its own, the identity provider that issues the tokens owns
 * sign-up and asks for the user here, so an open POST /users would only let anyone mint accounts.
 * The guard runs before the cached read, so a cached user reaches no one the guard refused.
 */
export function userRoutes(users: UserService): Router {
  const router = Router();
  const selfOrAdmin = requireSelfOrAdmin();

  /**
   * `GET /admin/source/users?ids=1,2,3`: users from the database, never the cache, for other
   * services' staleness auditors (an operator route, like /admin/cache-audit): order-service's
   * auditor or an admin only, since it answers with e-mail addresses.
   */
  router.get('/admin/source/users', allow(isService(ORDER_SERVICE), isAdmin), async (req, res) => {
    const { ids } = idsQuerySchema.parse(req.query);
    res.json(await users.getUsersFromSource(ids));
  });

  router.get('/users/:id', allow(isSelf(), isAdmin, isService(ORDER_SERVICE)), async (req, res) => {
    const id = idSchema.parse(req.params.id);
    // Authorised above, before the read: the cached bytes are sent as stored.
    const { json, cacheStatus } = await users.getUserJson(id, { deadline: deadlineOf(res) });
    setCacheHeader(res, cacheStatus);
    if (!json) throw new NotFoundError(`user ${id} not found`);
    sendJsonBytes(res, json);
  });

  router.post('/users', requireAdmin(), async (req, res) => {
    const input = createUserSchema.parse(req.body);
    const user = await users.createUser(input);
    res.status(201).location(`/users/${user.id}`).json(user);
  });

  router.patch('/users/:id', selfOrAdmin, async (req, res) => {
    const id = idSchema.parse(req.params.id);
    const changes = updateUserSchema.parse(req.body);
    res.json(await users.updateUser(id, changes));
  });

  router.delete('/users/:id', selfOrAdmin, async (req, res) => {
    const id = idSchema.parse(req.params.id);
    await users.deleteUser(id);
    res.status(204).end();
  });

  return router;
}

import { idSchema, NotFoundError, setCacheHeader } from '@memshop/service-kit';
import { Router } from 'express';
import type { UserService } from '../domain/user-service';
import { createUserSchema, idsQuerySchema, updateUserSchema } from './schemas';

export function userRoutes(users: UserService): Router {
  const router = Router();

  /**
   * `GET /admin/source/users?ids=1,2,3`: users from the database, never the cache, for other
   * services' staleness auditors (an operator route, like /admin/cache-audit).
   */
  router.get('/admin/source/users', async (req, res) => {
    const { ids } = idsQuerySchema.parse(req.query);
    res.json(await users.getUsersFromSource(ids));
  });

  router.get('/users/:id', async (req, res) => {
    const id = idSchema.parse(req.params.id);
    const { value, cacheStatus } = await users.getUser(id);
    setCacheHeader(res, cacheStatus);
    if (!value) throw new NotFoundError(`user ${id} not found`);
    res.json(value);
  });

  router.post('/users', async (req, res) => {
    const input = createUserSchema.parse(req.body);
    const user = await users.createUser(input);
    res.status(201).location(`/users/${user.id}`).json(user);
  });

  router.patch('/users/:id', async (req, res) => {
    const id = idSchema.parse(req.params.id);
    const changes = updateUserSchema.parse(req.body);
    res.json(await users.updateUser(id, changes));
  });

  router.delete('/users/:id', async (req, res) => {
    const id = idSchema.parse(req.params.id);
    await users.deleteUser(id);
    res.status(204).end();
  });

  return router;
}

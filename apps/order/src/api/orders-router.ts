import {
  BadRequestError,
  combineCacheStatus,
  deadlineOf,
  isAdminUser,
  NotFoundError,
  principalOf,
  requireSelfOrAdmin,
  requireUser,
  sendForbidden,
  setCacheHeader,
  type UserPrincipal,
} from '@memshop/service-kit';
import { Router, type Response } from 'express';
import { listUserOrders, viewOrder, type OrderViewDeps } from '../domain/order-view';
import { placeOrder, type PlaceOrderDeps } from '../domain/place-order';
import {
  idempotencyKeySchema,
  orderIdParamsSchema,
  placeOrderBodySchema,
  userOrdersQuerySchema,
} from './order-schemas';

export type OrdersApiDeps = PlaceOrderDeps &
  OrderViewDeps & {
    /** Bounds the orders placed at once (a bulkhead); unbounded when absent. */
    placementLimit?: <T>(place: () => Promise<T>) => Promise<T>;
  };

const DEFAULT_PAGE_SIZE = 20;

/**
 * POST /orders, GET /orders/:id, GET /users/:id/orders (README "The API"), for users only:
 * orders are placed for the user in the token, read by their owner or an admin, and another
 * user's order is a 404 (not a 403), so sequential ids do not tell which orders exist.
 */
export function ordersRouter(deps: OrdersApiDeps): Router {
  const router = Router();
  const user = requireUser();

  /**
   * 201 confirmed; 202 pending (catalog did not answer in time: poll GET /orders/:id);
   * 409/422 failed (the error names the order in `details.orderId`); 503 nothing was saved.
   * With an Idempotency-Key, a repeat gets the first answer.
   */
  router.post('/orders', user, async (req, res) => {
    const { userId: named, items } = placeOrderBodySchema.parse(req.body);
    const userId = tokenUser(res).id;
    if (named !== undefined && named !== userId) {
      sendForbidden(res, `orders are placed for the user in the token (${userId}), not user ${named}`);
      return;
    }
    const header = req.get('idempotency-key');
    let idempotencyKey: string | undefined;
    if (header !== undefined) {
      const parsed = idempotencyKeySchema.safeParse(header);
      if (!parsed.success) {
        throw new BadRequestError(`Idempotency-Key header: ${parsed.error.issues[0]?.message}`);
      }
      idempotencyKey = parsed.data;
    }
    const place = () => placeOrder(deps, { userId, items, idempotencyKey });
    const { order, created } = await (deps.placementLimit ? deps.placementLimit(place) : place());
    if (!created) res.set('Idempotent-Replayed', 'true');
    res
      .status(order.status === 'pending' ? 202 : 201)
      .location(`/orders/${order.id}`)
      .json(order);
  });

  router.get('/orders/:id', user, async (req, res) => {
    const { id } = orderIdParamsSchema.parse(req.params);
    const reader = tokenUser(res);
    const result = await viewOrder(deps, id, (owner) => owner === reader.id || isAdminUser(reader), {
      deadline: deadlineOf(res),
    });
    if (!result) throw new NotFoundError(`order ${id} not found`);
    setCacheHeader(res, combineCacheStatus(result.statuses));
    res.json(result.value);
  });

  router.get('/users/:id/orders', requireSelfOrAdmin(), async (req, res) => {
    const { id } = orderIdParamsSchema.parse(req.params);
    const query = userOrdersQuerySchema.parse(req.query);
    const result = await listUserOrders(deps, id, {
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      beforeId: query.before,
    });
    setCacheHeader(res, combineCacheStatus(result.statuses));
    res.json(result.value);
  });

  return router;
}

/** Behind requireUser, the principal is a user. */
function tokenUser(res: Response): UserPrincipal {
  return principalOf(res) as UserPrincipal;
}

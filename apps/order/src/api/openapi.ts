import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import {
  bearerSecurity as security,
  buildApiDocument,
  cachedJsonResponse,
  errorResponse,
  errorResponses as errors,
  jsonRequestBody,
  jsonResponse,
  type ApiDocument,
} from '@memshop/service-kit';
import { z } from 'zod';
import {
  idempotencyKeySchema,
  orderIdParamsSchema,
  orderViewSchema,
  placeOrderBodySchema,
  userOrdersQuerySchema,
  userOrdersSchema,
} from './order-schemas';

/** A dependency is down: order's own database, or catalog / user-service (`details.service`). */
const unavailable = errorResponse(
  'The database, catalog or user-service is unavailable; try again later.',
  ['database_unavailable', 'dependency_unavailable', 'unavailable'],
  z.object({ service: z.string() }),
);

const placedHeaders = z.object({
  Location: z.string().meta({ description: '`/orders/{id}`' }),
  'Idempotent-Replayed': z
    .literal('true')
    .optional()
    .meta({ description: 'Present when this is the first answer again, for a repeated Idempotency-Key.' }),
});

/** Every order route, with the schemas the route parses with (a new route: one registerPath here). */
function registerOrderRoutes(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/orders',
    operationId: 'placeOrder',
    security: security.user,
    tags: ['orders'],
    summary: 'Place an order: prices from catalog, stock taken in catalog, all or nothing',
    description:
      "With an `Idempotency-Key`, the same key and body within the order's lifetime answer the first answer again (header `Idempotent-Replayed: true`); the same key with another body is 422 `idempotency_key_reused`.",
    request: {
      headers: z.object({
        'idempotency-key': idempotencyKeySchema.optional().meta({
          description: '1-200 visible ASCII characters (a UUID fits); makes a retried POST place one order.',
        }),
      }),
      body: jsonRequestBody(placeOrderBodySchema),
    },
    responses: {
      201: {
        ...jsonResponse('Placed and confirmed: the stock is taken.', orderViewSchema),
        headers: placedHeaders,
      },
      202: {
        ...jsonResponse(
          'Saved as `pending`: catalog did not settle the reservation in time; poll GET /orders/{id}.',
          orderViewSchema,
        ),
        headers: placedHeaders,
      },
      400: errors.badRequest,
      401: errors.unauthorized,
      403: errors.forbidden,
      409: errorResponse(
        'catalog lacks the stock for a line; the order failed (`details.orderId`) and nothing is held.',
        ['conflict'],
      ),
      413: errors.payloadTooLarge,
      415: errors.unsupportedMediaType,
      422: errorResponse(
        'The body names a user or product that does not exist, or one without a price; or the Idempotency-Key was used with another body.',
        ['unknown_user', 'unknown_product', 'unpriceable_order', 'idempotency_key_reused'],
      ),
      503: unavailable,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/orders/{id}',
    operationId: 'getOrder',
    security: security.user,
    tags: ['orders'],
    summary: 'An order with the user and products as they are now',
    request: { params: orderIdParamsSchema },
    responses: {
      200: cachedJsonResponse(
        'The order; `X-Cache` is the least fresh of every read behind it.',
        orderViewSchema,
      ),
      400: errors.badRequest,
      401: errors.unauthorized,
      404: errors.notFound,
      503: unavailable,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/users/{id}/orders',
    operationId: 'listUserOrders',
    security: security.user,
    tags: ['orders'],
    summary: "A user's orders, newest first, as placed",
    request: { params: orderIdParamsSchema, query: userOrdersQuerySchema },
    responses: {
      200: cachedJsonResponse('A page of orders (`limit` default 20, at most 100).', userOrdersSchema),
      400: errors.badRequest,
      401: errors.unauthorized,
      403: errors.forbidden,
      404: errors.notFound,
      503: unavailable,
    },
  });
}

export function orderApiDocument(): ApiDocument {
  return buildApiDocument({
    service: 'order',
    version: '1.0.0',
    description:
      'Orders, shown with the users and products of user-service and catalog as they are now, read through order-service’s own cache. Errors are `{ error: { code, message, details? } }`. Every route needs a user token: orders are placed for the user in it and read by their owner or an admin.',
    serverUrl: 'http://127.0.0.1:3003',
    register: registerOrderRoutes,
  });
}

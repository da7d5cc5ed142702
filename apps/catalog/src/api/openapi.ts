import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import {
  bearerSecurity as security,
  buildApiDocument,
  cachedJsonResponse,
  errorResponse,
  errorResponses as errors,
  idSchema,
  jsonRequestBody,
  jsonResponse,
  type ApiDocument,
} from '@memshop/service-kit';
import { z } from 'zod';
import {
  categoryProductsPageSchema,
  categorySchema,
  createProductSchema,
  idsQuerySchema,
  pageQuerySchema,
  productBatchSchema,
  productSchema,
  confirmReservationSchema,
  releaseStockSchema,
  reservationParamsSchema,
  reservationReferenceSchema,
  reservedStockSchema,
  reserveStockSchema,
  stockReservationSchema,
  stockResultSchema,
  stockShortagesSchema,
  updateCategorySchema,
  updateProductSchema,
} from './schemas';
import { CATALOG_RATE_LIMITS } from './rate-limited-routes';

const idParams = z.object({ id: idSchema });

/**
 * Every catalog route, registered with the schemas the route itself parses with: a new route is
 * one `registerPath` here next to its schemas in schemas.ts.
 */
function registerCatalogRoutes(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/products/{id}',
    operationId: 'getProduct',
    security: security.public,
    tags: ['products'],
    summary: 'A product (cache-aside read)',
    request: { params: idParams },
    responses: {
      200: cachedJsonResponse('The product.', productSchema),
      400: errors.badRequest,
      401: errors.unauthorized,
      404: errors.notFound,
      503: errors.databaseUnavailable,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/products',
    operationId: 'getProducts',
    security: security.public,
    tags: ['products'],
    summary: 'Products by id, one cache multi-get',
    description: 'At most 100 distinct ids, comma-separated (`?ids=1,2,3`) or repeated (`?ids=1&ids=2`).',
    request: { query: idsQuerySchema },
    responses: {
      200: cachedJsonResponse(
        'The products found, in request order, and the ids not found.',
        productBatchSchema,
      ),
      400: errors.badRequest,
      401: errors.unauthorized,
      404: errors.notFound,
      503: errors.databaseUnavailable,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/admin/source/products',
    operationId: 'getProductsFromSource',
    security: security.userOrService,
    tags: ['operations'],
    summary: "Products by id from the database, never the cache (other services' auditors and refills)",
    description:
      'The ids as in `GET /products`; `products` may be empty (every id `missing`). For order-service ' +
      "(its staleness auditor, and a refill of a copy when catalog's cache answered below the copy's " +
      'version floor, answered "not found" for an id with a floor, or the floor could not be read) and ' +
      'admins: every call reads Postgres.',
    request: { query: idsQuerySchema },
    responses: {
      200: jsonResponse('The products found, in request order, and the ids not found.', productBatchSchema),
      400: errors.badRequest,
      401: errors.unauthorized,
      403: errors.forbidden,
      503: errors.databaseUnavailable,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/products',
    operationId: 'createProduct',
    security: security.user,
    tags: ['products'],
    summary: 'Create a product',
    request: { body: jsonRequestBody(createProductSchema) },
    responses: {
      201: {
        ...jsonResponse('Created.', productSchema),
        headers: z.object({ Location: z.string().meta({ description: '`/products/{id}`' }) }),
      },
      400: errors.badRequest,
      401: errors.unauthorized,
      403: errors.forbidden,
      409: errors.conflict,
      413: errors.payloadTooLarge,
      415: errors.unsupportedMediaType,
      503: errors.databaseUnavailable,
    },
  });
  registry.registerPath({
    method: 'patch',
    path: '/products/{id}',
    operationId: 'updateProduct',
    security: security.user,
    tags: ['products'],
    summary: 'Change a product (write-through: the next read is a hit)',
    request: { params: idParams, body: jsonRequestBody(updateProductSchema) },
    responses: {
      200: jsonResponse('The changed product.', productSchema),
      400: errors.badRequest,
      401: errors.unauthorized,
      403: errors.forbidden,
      404: errors.notFound,
      409: errors.conflict,
      413: errors.payloadTooLarge,
      415: errors.unsupportedMediaType,
      503: errors.databaseUnavailable,
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/products/{id}',
    operationId: 'deleteProduct',
    security: security.user,
    tags: ['products'],
    summary: 'Delete a product',
    request: { params: idParams },
    responses: {
      204: { description: 'Deleted.' },
      400: errors.badRequest,
      401: errors.unauthorized,
      403: errors.forbidden,
      404: errors.notFound,
      409: errors.conflict,
      503: errors.databaseUnavailable,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/categories/{id}/products',
    operationId: 'getCategoryProducts',
    security: security.public,
    tags: ['categories'],
    summary: "A page of a category's product summaries (no stock)",
    request: { params: idParams, query: pageQuerySchema },
    responses: {
      200: cachedJsonResponse('The page.', categoryProductsPageSchema),
      400: errors.badRequest,
      401: errors.unauthorized,
      404: errors.notFound,
      503: errors.databaseUnavailable,
    },
  });
  registry.registerPath({
    method: 'patch',
    path: '/categories/{id}',
    operationId: 'updateCategory',
    security: security.user,
    tags: ['categories'],
    summary: 'Rename a category (orphans every cached page of its list)',
    request: { params: idParams, body: jsonRequestBody(updateCategorySchema) },
    responses: {
      200: jsonResponse('The changed category.', categorySchema),
      400: errors.badRequest,
      401: errors.unauthorized,
      403: errors.forbidden,
      404: errors.notFound,
      409: errors.conflict,
      413: errors.payloadTooLarge,
      415: errors.unsupportedMediaType,
      503: errors.databaseUnavailable,
    },
  });
  const stockErrors = {
    400: errors.badRequest,
    404: errors.notFound,
    413: errors.payloadTooLarge,
    415: errors.unsupportedMediaType,
    503: errors.databaseUnavailable,
  };
  const reservationReleased = errorResponse(
    'The reservation was released (expired, released, or refused before it was made); no stock is held.',
    ['reservation_released'],
  );
  const idempotencyKeyHeader = z.object({
    'idempotency-key': reservationReferenceSchema.optional().meta({
      description:
        'The reservation reference, when the body has none: the same key again is the same reservation.',
    }),
  });
  registry.registerPath({
    method: 'post',
    path: '/stock/reservations',
    operationId: 'reserveStock',
    security: security.service,
    tags: ['stock'],
    summary: 'Take stock for an order: every line or none',
    description:
      'With a `reference` (or an `Idempotency-Key` header) the stock is held as a reservation that catalog releases at `expiresAt` unless confirmed; the same reference again answers from the record. Without one, a plain stock change.',
    request: { headers: idempotencyKeyHeader, body: jsonRequestBody(reserveStockSchema) },
    responses: {
      ...stockErrors,
      200: jsonResponse(
        'Every line taken, in one transaction (a reservation when a reference was given).',
        z.union([reservedStockSchema, stockResultSchema]),
      ),
      401: errors.unauthorized,
      403: errors.forbidden,
      409: errorResponse(
        'A line lacks stock (nothing was taken; `details.shortages`), or the reference was released.',
        ['conflict', 'reservation_released'],
        z.union([stockShortagesSchema, z.object({ reference: z.string(), status: z.literal('released') })]),
      ),
      422: errorResponse('The reference is already reserved for other items.', ['reservation_mismatch']),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/stock/confirmations',
    operationId: 'confirmReservation',
    security: security.service,
    tags: ['stock'],
    summary: 'Make a reservation final (idempotent)',
    request: { body: jsonRequestBody(confirmReservationSchema) },
    responses: {
      ...stockErrors,
      200: jsonResponse('The confirmed reservation.', stockReservationSchema),
      401: errors.unauthorized,
      403: errors.forbidden,
      409: reservationReleased,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/stock/releases',
    operationId: 'releaseStock',
    security: security.service,
    tags: ['stock'],
    summary: 'Give stock back: a reservation by reference (idempotent), or items',
    request: { body: jsonRequestBody(releaseStockSchema) },
    responses: {
      ...stockErrors,
      200: jsonResponse(
        'The released reservation, or every line given back.',
        z.union([stockReservationSchema, stockResultSchema]),
      ),
      401: errors.unauthorized,
      403: errors.forbidden,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/stock/reservations/{reference}',
    operationId: 'getReservation',
    security: security.service,
    tags: ['stock'],
    summary: 'A reservation by reference',
    request: { params: reservationParamsSchema },
    responses: {
      200: jsonResponse('The reservation.', stockReservationSchema),
      400: errors.badRequest,
      401: errors.unauthorized,
      403: errors.forbidden,
      404: errors.notFound,
      503: errors.databaseUnavailable,
    },
  });
}

export function catalogApiDocument(): ApiDocument {
  return buildApiDocument({
    service: 'catalog',
    version: '1.0.0',
    description:
      "Products, categories and stock, read through a memcached cluster (cache-aside with leases). Errors are `{ error: { code, message, details? } }`. Reads are public; writes need an admin's user token; `/stock` only order-service's service token.",
    serverUrl: 'http://127.0.0.1:3001',
    serviceTokens: true,
    register: registerCatalogRoutes,
    rateLimits: CATALOG_RATE_LIMITS,
  });
}

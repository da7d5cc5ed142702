import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import {
  bearerSecurity as security,
  buildApiDocument,
  cachedJsonResponse,
  errorResponses as errors,
  idSchema,
  jsonRequestBody,
  jsonResponse,
  type ApiDocument,
} from '@memshop/service-kit';
import { z } from 'zod';
import { createUserSchema, idsQuerySchema, updateUserSchema, userBatchSchema, userSchema } from './schemas';

const idParams = z.object({ id: idSchema });

/** Every user route, with the schemas the route parses with (a new route: one registerPath here). */
function registerUserRoutes(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/users/{id}',
    operationId: 'getUser',
    security: security.userOrService,
    tags: ['users'],
    summary: 'A user (cache-aside read)',
    request: { params: idParams },
    responses: {
      200: cachedJsonResponse('The user.', userSchema),
      400: errors.badRequest,
      401: errors.unauthorized,
      403: errors.forbidden,
      404: errors.notFound,
      503: errors.databaseUnavailable,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/admin/source/users',
    operationId: 'getUsersFromSource',
    security: security.userOrService,
    tags: ['operations'],
    summary: "Users by id from the database, never the cache (other services' staleness auditors)",
    description: 'At most 100 distinct ids, comma-separated (`?ids=1,2,3`) or repeated (`?ids=1&ids=2`).',
    request: { query: idsQuerySchema },
    responses: {
      200: jsonResponse('The users found, in request order, and the ids not found.', userBatchSchema),
      400: errors.badRequest,
      401: errors.unauthorized,
      403: errors.forbidden,
      503: errors.databaseUnavailable,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/users',
    operationId: 'createUser',
    security: security.user,
    tags: ['users'],
    summary: 'Create a user',
    request: { body: jsonRequestBody(createUserSchema) },
    responses: {
      201: {
        ...jsonResponse('Created.', userSchema),
        headers: z.object({ Location: z.string().meta({ description: '`/users/{id}`' }) }),
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
    path: '/users/{id}',
    operationId: 'updateUser',
    security: security.user,
    tags: ['users'],
    summary: 'Change a user',
    request: { params: idParams, body: jsonRequestBody(updateUserSchema) },
    responses: {
      200: jsonResponse('The changed user.', userSchema),
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
    path: '/users/{id}',
    operationId: 'deleteUser',
    security: security.user,
    tags: ['users'],
    summary: 'Delete a user',
    request: { params: idParams },
    responses: {
      204: { description: 'Deleted.' },
      400: errors.badRequest,
      401: errors.unauthorized,
      403: errors.forbidden,
      404: errors.notFound,
      503: errors.databaseUnavailable,
    },
  });
}

export function userApiDocument(): ApiDocument {
  return buildApiDocument({
    service: 'user',
    version: '1.0.0',
    description:
      'Users, read through a memcached cluster (cache-aside with leases). Errors are `{ error: { code, message, details? } }`. A user reads and changes only their own record (an admin any, order-service may read); users are created by an admin.',
    serverUrl: 'http://127.0.0.1:3002',
    serviceTokens: true,
    register: registerUserRoutes,
  });
}

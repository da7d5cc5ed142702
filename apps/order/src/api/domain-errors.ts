import { ConflictError, HttpError } from '@memshop/service-kit';
import type { ErrorRequestHandler } from 'express';
import {
  DependencyUnavailableError,
  IdempotencyKeyReusedError,
  InsufficientStockError,
  OrderFailedError,
  UnknownProductsError,
  UnknownUserError,
  UnpriceableOrderError,
} from '../domain/errors';

/**
 * Unknown users and products named in an order body are 422, not 404: the URL (/orders) exists
 * and the body is well-formed, it refers to something that does not. (GET /users/:id/orders
 * answers 404 for an unknown user: there the id is in the path.)
 */
export function toHttpError(err: unknown): unknown {
  const domain = findDomainError(err);
  if (!domain) return err;
  if (domain instanceof UnknownUserError) {
    return new HttpError(422, 'unknown_user', domain.message, { userId: domain.userId });
  }
  if (domain instanceof UnknownProductsError) {
    return new HttpError(422, 'unknown_product', domain.message, { productIds: domain.productIds });
  }
  if (domain instanceof UnpriceableOrderError) return new HttpError(422, 'unpriceable_order', domain.message);
  if (domain instanceof InsufficientStockError) return new ConflictError(domain.message, domain.details);
  if (domain instanceof OrderFailedError) {
    const { status, code, message, details } = domain.failure;
    const extra = typeof details === 'object' && details !== null ? details : {};
    return new HttpError(status, code, message, { ...extra, orderId: domain.orderId });
  }
  if (domain instanceof IdempotencyKeyReusedError) {
    return new HttpError(422, 'idempotency_key_reused', domain.message, { orderId: domain.orderId });
  }
  if (domain instanceof DependencyUnavailableError) {
    return new HttpError(503, 'dependency_unavailable', domain.message, { service: domain.service });
  }
  return err;
}

/** The cache may wrap a loader's error; the domain error is somewhere down the `cause` chain. */
function findDomainError(err: unknown): Error | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (
      e instanceof UnknownUserError ||
      e instanceof UnknownProductsError ||
      e instanceof UnpriceableOrderError ||
      e instanceof InsufficientStockError ||
      e instanceof DependencyUnavailableError ||
      e instanceof OrderFailedError ||
      e instanceof IdempotencyKeyReusedError
    ) {
      return e;
    }
  }
  return undefined;
}

/** Router-level error middleware: domain errors become HttpErrors for service-kit's handler. */
export function domainErrorMapper(): ErrorRequestHandler {
  return (err, _req, _res, next) => next(toHttpError(err));
}

import { DomainError, type DomainErrorKind } from '@memshop/service-kit';
import type { OrderFailure } from './order';

/*
 * What can go wrong when placing or reading an order, in the domain's words; the service-kit
 * error handler gives each kind its status code. Unknown users and products named in an order
 * body are `unprocessable` (422), not `not_found`: the URL (/orders) exists and the body is
 * well-formed, it refers to something that does not.
 */

/** The order names a user that user-service does not know. */
export class UnknownUserError extends DomainError {
  readonly kind = 'unprocessable';
  constructor(readonly userId: number) {
    super(`user ${userId} does not exist`, { code: 'unknown_user', details: { userId } });
  }
}

/** The user the path names (GET /users/:id/orders) is not known to user-service. */
export class UserNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(readonly userId: number) {
    super(`user ${userId} not found`);
  }
}

/** The order names products that catalog-service does not know. */
export class UnknownProductsError extends DomainError {
  readonly kind = 'unprocessable';
  constructor(readonly productIds: number[]) {
    super(`unknown product${productIds.length > 1 ? 's' : ''}: ${productIds.join(', ')}`, {
      code: 'unknown_product',
      details: { productIds },
    });
  }
}

/** catalog refused the stock reservation; `details` is catalog's (its shortages). */
export class InsufficientStockError extends DomainError {
  readonly kind = 'conflict';
  constructor(details: unknown, message = 'not enough stock for this order') {
    super(message, { details });
  }
}

/** The order cannot be priced as one total: its products have different currencies, or it overflows. */
export class UnpriceableOrderError extends DomainError {
  readonly kind = 'unprocessable';
  constructor(message: string) {
    super(message, { code: 'unpriceable_order' });
  }
}

/**
 * catalog or user did not answer usably (refused, timed out, 5xx, or a body of the wrong shape)
 * and the cache had nothing to serve instead.
 */
export class DependencyUnavailableError extends DomainError {
  readonly kind = 'unavailable';
  /**
   * True when the service certainly did not carry the request out (the connection was refused,
   * or it answered 5xx); false when it may have (a timeout, a reset: the reply was lost).
   */
  readonly notApplied: boolean;

  constructor(
    readonly service: string,
    message: string,
    options?: { cause?: unknown; notApplied?: boolean },
  ) {
    super(message, { code: 'dependency_unavailable', details: { service }, cause: options?.cause });
    this.notApplied = options?.notApplied ?? false;
  }
}

/** The same Idempotency-Key came with a different body: the key names another request. */
export class IdempotencyKeyReusedError extends DomainError {
  readonly kind = 'unprocessable';
  constructor(readonly orderId: number) {
    super('this Idempotency-Key was used for a different order body', {
      code: 'idempotency_key_reused',
      details: { orderId },
    });
  }
}

/**
 * The order was saved and then failed (refused stock, expired reservation): answered with the
 * failure it keeps, the order named in `details.orderId`. Kept failures are 409 (stock refused
 * or released) or 422 (what the order names does not fit); see place-order and settle-order.
 */
export class OrderFailedError extends DomainError {
  readonly kind: DomainErrorKind;
  constructor(
    readonly orderId: number,
    readonly failure: OrderFailure,
  ) {
    const extra = typeof failure.details === 'object' && failure.details !== null ? failure.details : {};
    super(failure.message, { code: failure.code, details: { ...extra, orderId } });
    this.kind = failure.status === 409 ? 'conflict' : 'unprocessable';
  }
}

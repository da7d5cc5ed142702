import type { OrderFailure } from './order';

/**
 * What can go wrong when placing or reading an order, in the domain's words. api/ maps each
 * to its status code (api/domain-errors.ts); nothing here knows about HTTP.
 */
export class OrderDomainError extends Error {
  override readonly name: string = 'OrderDomainError';
}

/** The order names a user that user-service does not know (422: the body is well-formed but refers to nothing). */
export class UnknownUserError extends OrderDomainError {
  override readonly name = 'UnknownUserError';
  constructor(readonly userId: number) {
    super(`user ${userId} does not exist`);
  }
}

/** The order names products that catalog-service does not know (422). */
export class UnknownProductsError extends OrderDomainError {
  override readonly name = 'UnknownProductsError';
  constructor(readonly productIds: number[]) {
    super(`unknown product${productIds.length > 1 ? 's' : ''}: ${productIds.join(', ')}`);
  }
}

/** catalog refused the stock reservation (409). */
export class InsufficientStockError extends OrderDomainError {
  override readonly name = 'InsufficientStockError';
  constructor(
    readonly details: unknown,
    message = 'not enough stock for this order',
  ) {
    super(message);
  }
}

/** The order cannot be priced as one total (422): its products have different currencies, or it overflows. */
export class UnpriceableOrderError extends OrderDomainError {
  override readonly name = 'UnpriceableOrderError';
}

/**
 * catalog or user did not answer usably (refused, timed out, 5xx, or a body of the wrong shape)
 * and the cache had nothing to serve instead (503).
 */
export class DependencyUnavailableError extends OrderDomainError {
  override readonly name = 'DependencyUnavailableError';
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
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.notApplied = options?.notApplied ?? false;
  }
}

/** The same Idempotency-Key came with a different body (422: the key names another request). */
export class IdempotencyKeyReusedError extends OrderDomainError {
  override readonly name = 'IdempotencyKeyReusedError';
  constructor(readonly orderId: number) {
    super('this Idempotency-Key was used for a different order body');
  }
}

/** The order was saved and then failed (refused stock, expired reservation): answered with its failure. */
export class OrderFailedError extends OrderDomainError {
  override readonly name = 'OrderFailedError';
  constructor(
    readonly orderId: number,
    readonly failure: OrderFailure,
  ) {
    super(failure.message);
  }
}

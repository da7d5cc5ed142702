import { DomainError } from '@memshop/service-kit';

/** Domain outcomes of catalog; the service-kit error handler gives each kind its status code. */
export class ProductNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(readonly productId: number) {
    super(`product ${productId} not found`);
  }
}

/** The category the path names does not exist (404). */
export class CategoryNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(readonly categoryId: number) {
    super(`category ${categoryId} not found`);
  }
}

/** A product's `categoryId` names no category: the caller's mistake in the body (400), not a missing page. */
export class UnknownCategoryError extends DomainError {
  readonly kind = 'invalid';
  constructor(readonly categoryId: number) {
    super(`categoryId: category ${categoryId} not found`);
  }
}

export class DuplicateSkuError extends DomainError {
  readonly kind = 'conflict';
  constructor(readonly sku: string) {
    super(`a product with sku "${sku}" already exists`);
  }
}

export class InsufficientStockError extends DomainError {
  readonly kind = 'conflict';
  constructor(readonly shortages: Array<{ productId: number; requested: number; available: number }>) {
    super(
      `insufficient stock for ${shortages
        .map((s) => `product ${s.productId} (requested ${s.requested}, available ${s.available})`)
        .join(', ')}`,
      { details: { shortages } },
    );
  }
}

/** The reference was already released (expired, given back, or refused before it arrived): 409. */
export class ReservationReleasedError extends DomainError {
  readonly kind = 'conflict';
  constructor(readonly reference: string) {
    super(`stock reservation ${reference} was released (expired or given back)`, {
      code: 'reservation_released',
      details: { reference, status: 'released' },
    });
  }
}

/** The reference was used before for other items: 422, the caller reused a reference. */
export class ReservationMismatchError extends DomainError {
  readonly kind = 'unprocessable';
  constructor(readonly reference: string) {
    super(`stock reservation ${reference} exists with other items`, {
      code: 'reservation_mismatch',
      details: { reference },
    });
  }
}

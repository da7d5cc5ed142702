/** Domain outcomes the API turns into status codes (no express in here). */
export class ProductNotFoundError extends Error {
  constructor(readonly productId: number) {
    super(`product ${productId} not found`);
    this.name = 'ProductNotFoundError';
  }
}

export class CategoryNotFoundError extends Error {
  constructor(readonly categoryId: number) {
    super(`category ${categoryId} not found`);
    this.name = 'CategoryNotFoundError';
  }
}

export class DuplicateSkuError extends Error {
  constructor(readonly sku: string) {
    super(`a product with sku "${sku}" already exists`);
    this.name = 'DuplicateSkuError';
  }
}

export class InsufficientStockError extends Error {
  constructor(readonly shortages: Array<{ productId: number; requested: number; available: number }>) {
    super(
      `insufficient stock for ${shortages
        .map((s) => `product ${s.productId} (requested ${s.requested}, available ${s.available})`)
        .join(', ')}`,
    );
    this.name = 'InsufficientStockError';
  }
}

/** The reference was already released (expired, given back, or refused before it arrived): 409. */
export class ReservationReleasedError extends Error {
  constructor(readonly reference: string) {
    super(`stock reservation ${reference} was released (expired or given back)`);
    this.name = 'ReservationReleasedError';
  }
}

/** The reference was used before for other items: 422, the caller reused a reference. */
export class ReservationMismatchError extends Error {
  constructor(readonly reference: string) {
    super(`stock reservation ${reference} exists with other items`);
    this.name = 'ReservationMismatchError';
  }
}

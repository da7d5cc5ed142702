import { BadRequestError, ConflictError, HttpError, NotFoundError } from '@memshop/service-kit';
import {
  CategoryNotFoundError,
  DuplicateSkuError,
  InsufficientStockError,
  ProductNotFoundError,
  ReservationMismatchError,
  ReservationReleasedError,
} from '../domain/errors';

/**
 * Domain outcomes -> HTTP. A category named in a product body that does not exist is the
 * caller's mistake (400); a category in the path that does not exist is a 404.
 */
export function toHttpError(err: unknown, opts: { categoryInBody?: boolean } = {}): unknown {
  if (err instanceof ProductNotFoundError) return new NotFoundError(err.message);
  if (err instanceof CategoryNotFoundError) {
    return opts.categoryInBody
      ? new BadRequestError(`categoryId: ${err.message}`)
      : new NotFoundError(err.message);
  }
  if (err instanceof DuplicateSkuError) return new ConflictError(err.message);
  if (err instanceof InsufficientStockError)
    return new ConflictError(err.message, { shortages: err.shortages });
  if (err instanceof ReservationReleasedError) {
    return new HttpError(409, 'reservation_released', err.message, {
      reference: err.reference,
      status: 'released',
    });
  }
  if (err instanceof ReservationMismatchError) {
    return new HttpError(422, 'reservation_mismatch', err.message, { reference: err.reference });
  }
  return err;
}

import { BadRequestError, ConflictError, NotFoundError } from '@memshop/service-kit';
import {
  CategoryNotFoundError,
  DuplicateSkuError,
  InsufficientStockError,
  ProductNotFoundError,
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
  return err;
}

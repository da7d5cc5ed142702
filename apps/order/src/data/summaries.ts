import type { ProductSummary, StoredOrder, UserSummary } from '../domain/order';

/**
 * Lifetimes of order-service's copies. Events purge them on every change, so these only bound
 * the damage of an event that never arrives; 10 minutes keeps hot products and users cached
 * across a browsing session. Orders do not change once placed, so they can stay an hour.
 */
export const PRODUCT_TTL_SECONDS = 600;
export const USER_TTL_SECONDS = 600;
export const ORDER_TTL_SECONDS = 3600;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isString = (v: unknown): v is string => typeof v === 'string';

// Shape checks of cached values (anyone who can reach memcached can write to it): a corrupt or foreign entry
// is a miss, never a crash.

export function isProductSummary(v: unknown): v is ProductSummary {
  return isObject(v) && isInt(v.id) && isString(v.name) && isInt(v.priceCents) && isString(v.currency);
}

export function isUserSummary(v: unknown): v is UserSummary {
  return isObject(v) && isInt(v.id) && isString(v.name);
}

export function isStoredOrder(v: unknown): v is StoredOrder {
  return (
    isObject(v) &&
    isInt(v.id) &&
    isInt(v.userId) &&
    (v.status === 'pending' ||
      v.status === 'confirmed' ||
      v.status === 'failed' ||
      v.status === 'cancelled') &&
    isInt(v.version) &&
    isString(v.reservationReference) &&
    isString(v.currency) &&
    isInt(v.totalCents) &&
    isString(v.createdAt) &&
    Array.isArray(v.items) &&
    v.items.every(
      (item) => isObject(item) && isInt(item.productId) && isInt(item.quantity) && isInt(item.unitPriceCents),
    )
  );
}

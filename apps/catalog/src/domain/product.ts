/** A product as the API returns it and the cache stores it (order-service reads it via docs/openapi). */
export interface Product {
  id: number;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  stock: number;
  categoryId: number;
  category: { id: number; name: string };
  version: number;
  updatedAt: string;
}

/** An entry of a category's product list: no stock, so an order (a stock change) never touches lists. */
export type ProductSummary = Omit<Product, 'stock' | 'category' | 'description'>;

export interface Category {
  id: number;
  name: string;
  version: number;
  updatedAt: string;
}

export interface CategoryProductsPage {
  category: { id: number; name: string };
  items: ProductSummary[];
  total: number;
  offset: number;
  limit: number;
}

export interface NewProduct {
  sku: string;
  name: string;
  description?: string;
  priceCents: number;
  currency: string;
  stock: number;
  categoryId: number;
}

export type ProductChanges = Partial<NewProduct>;

export interface StockItem {
  productId: number;
  quantity: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * Shape check of a cached product (memcached is unauthenticated): a poisoned or truncated entry is a
 * miss, never a crash or a wrong answer.
 */
export function isProduct(v: unknown): v is Product {
  return (
    isObject(v) &&
    isInt(v.id) &&
    isString(v.sku) &&
    isString(v.name) &&
    isString(v.description) &&
    isInt(v.priceCents) &&
    isString(v.currency) &&
    isInt(v.stock) &&
    isInt(v.categoryId) &&
    isObject(v.category) &&
    isInt(v.category.id) &&
    isString(v.category.name) &&
    isInt(v.version) &&
    isString(v.updatedAt)
  );
}

export function isCategoryProductsPage(v: unknown): v is CategoryProductsPage {
  return (
    isObject(v) &&
    isObject(v.category) &&
    isInt(v.category.id) &&
    Array.isArray(v.items) &&
    v.items.every((item) => isObject(item) && isInt(item.id) && isInt(item.priceCents)) &&
    isInt(v.total) &&
    isInt(v.offset) &&
    isInt(v.limit)
  );
}

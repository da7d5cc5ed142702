/** A reservation of stock, as catalog keeps it per reference (no express, no SQL in here). */
export type ReservationStatus = 'active' | 'confirmed' | 'released';

export interface ReservedItem {
  productId: number;
  quantity: number;
  /** The price read in the transaction that took the stock. */
  priceCents: number;
  currency: string;
}

export interface StockReservation {
  reference: string;
  status: ReservationStatus;
  /** Empty for a reference that was confirmed or released before it was ever reserved. */
  items: ReservedItem[];
  expiresAt: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Reads the `items` JSON column back (written only by this service, checked all the same). */
export function parseReservedItems(value: unknown): ReservedItem[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (v): v is ReservedItem =>
      isObject(v) &&
      Number.isInteger(v['productId']) &&
      Number.isInteger(v['quantity']) &&
      Number.isInteger(v['priceCents']) &&
      typeof v['currency'] === 'string',
  );
}

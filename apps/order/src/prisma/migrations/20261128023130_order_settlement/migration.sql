-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "OrderStatus" ADD VALUE 'pending';
ALTER TYPE "OrderStatus" ADD VALUE 'failed';

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "failure" JSONB,
ADD COLUMN     "idempotency_key" VARCHAR(200),
ADD COLUMN     "request_hash" CHAR(64),
ADD COLUMN     "reservation_reference" UUID NOT NULL DEFAULT gen_random_uuid(),
ADD COLUMN     "settle_after" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "settle_attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "stock_released_at" TIMESTAMPTZ(6),
ADD COLUMN     "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "version" INTEGER NOT NULL DEFAULT 1;

-- CreateIndex
CREATE UNIQUE INDEX "orders_reservation_reference_key" ON "orders"("reservation_reference");

-- CreateIndex
CREATE UNIQUE INDEX "orders_idempotency_key_key" ON "orders"("idempotency_key");

-- CreateIndex
CREATE INDEX "orders_status_settle_after_idx" ON "orders"("status", "settle_after");

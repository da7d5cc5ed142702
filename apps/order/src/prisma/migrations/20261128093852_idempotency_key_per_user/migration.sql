-- DropIndex
DROP INDEX "orders_idempotency_key_key";

-- CreateIndex
CREATE UNIQUE INDEX "orders_user_id_idempotency_key_key" ON "orders"("user_id", "idempotency_key");

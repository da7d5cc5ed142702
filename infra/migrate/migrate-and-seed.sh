#!/bin/sh
# The compose `migrate` job (Dockerfile target `migrate`): for each service, apply its Prisma
# migrations with the offline migrator (schema engine as WebAssembly, no engine download at run
# time), then run its seed. Seeds upsert, so running the job on every `docker compose up` is safe.
# Exits non-zero on the first failure, which keeps the services (service_completed_successfully)
# from starting against a half-migrated database.
set -eu

for svc in catalog user order; do
  case "$svc" in
    catalog) url="${CATALOG_DATABASE_URL:?CATALOG_DATABASE_URL is required}" ;;
    user) url="${USER_DATABASE_URL:?USER_DATABASE_URL is required}" ;;
    order) url="${ORDER_DATABASE_URL:?ORDER_DATABASE_URL is required}" ;;
  esac
  echo "migrate: $svc: applying migrations"
  DATABASE_URL="$url" node --enable-source-maps dist/migrate/cli.js deploy --schema "apps/$svc/src/prisma/schema.prisma"
  echo "migrate: $svc: seeding"
  DATABASE_URL="$url" node --enable-source-maps "dist/$svc/seed.js"
done
echo "migrate: done"

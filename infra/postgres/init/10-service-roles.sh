#!/bin/sh
# Runs once, on the first start of an empty postgres-data volume (docker-entrypoint-initdb.d), as
# POSTGRES_USER. Per service: its own database, an owner role the migrate job uses and a runtime
# role the service uses (infra/postgres/service-roles.sql). The superuser stays with the postgres
# container; no service sees its password.
set -eu

for svc in catalog user order; do
  case "$svc" in
    catalog)
      owner_password="${CATALOG_DB_OWNER_PASSWORD:?CATALOG_DB_OWNER_PASSWORD is required}"
      runtime_password="${CATALOG_DB_RUNTIME_PASSWORD:?CATALOG_DB_RUNTIME_PASSWORD is required}" ;;
    user)
      owner_password="${USER_DB_OWNER_PASSWORD:?USER_DB_OWNER_PASSWORD is required}"
      runtime_password="${USER_DB_RUNTIME_PASSWORD:?USER_DB_RUNTIME_PASSWORD is required}" ;;
    order)
      owner_password="${ORDER_DB_OWNER_PASSWORD:?ORDER_DB_OWNER_PASSWORD is required}"
      runtime_password="${ORDER_DB_RUNTIME_PASSWORD:?ORDER_DB_RUNTIME_PASSWORD is required}" ;;
  esac
  OWNER_PASSWORD="$owner_password" RUNTIME_PASSWORD="$runtime_password" \
    psql --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
      -v database="memshop_$svc" -v owner="memshop_${svc}_owner" -v runtime="memshop_${svc}_runtime" \
      -f /etc/memshop/postgres/service-roles.sql
done

#!/bin/sh
# The compose rabbitmq-users job: one broker user per service (service-user.sh), passwords from
# <SERVICE>_RABBITMQ_PASSWORD. Idempotent: a second run sets the same passwords and permissions.
set -eu
here="$(dirname "$0")"

for svc in catalog user order; do
  case "$svc" in
    catalog) password="${CATALOG_RABBITMQ_PASSWORD:?CATALOG_RABBITMQ_PASSWORD is required}" ;;
    user) password="${USER_RABBITMQ_PASSWORD:?USER_RABBITMQ_PASSWORD is required}" ;;
    order) password="${ORDER_RABBITMQ_PASSWORD:?ORDER_RABBITMQ_PASSWORD is required}" ;;
  esac
  SERVICE_PASSWORD="$password" sh "$here/service-user.sh" "$svc" "memshop-$svc"
done

#!/bin/sh
# Creates (or updates) the broker user of one service, with permissions on its own objects only:
#
#   service-user.sh <service> <username>          password from SERVICE_PASSWORD (never an argument)
#   service-user.sh --print <service>             prints the configure, write and read patterns
#
# What a service declares, publishes to and consumes (libs/cache, invalidation-topology.ts):
#   the topic exchange INVALIDATION_EXCHANGE (publish; its queue binds to it), the dead-letter
#   exchange <exchange>.dead-letter (parked messages go there), its quorum queue
#   <prefix>.<service>.invalidation.quorum and that queue's parking queue <queue>.parked.
#   configure also covers <prefix>.<service>.invalidation, the classic queue earlier versions
#   declared, which the service deletes on start. Each instance may also declare exclusive,
#   auto-delete queues of its own, bound to the exchange so it hears every event itself (a new
#   uuid per connection): <prefix>.<service>.near.<uuid> for the near cache, and for order-service
#   alone <prefix>.order.purge.<uuid> for its early purge.
# Another service's queue matches none of the patterns, so declaring, binding or consuming it is
# refused with ACCESS_REFUSED. The default exchange (amq.default) is not writable: replaying
# parked messages is an operator's job (npm run invalidation), under the operator's account.
#
# Env: RABBITMQ_VHOST (default /), INVALIDATION_EXCHANGE (default memshop.invalidation),
# QUEUE_PREFIX (default memshop), RABBITMQCTL (default rabbitmqctl; compose adds -n <node>).
# infra/k8s/rabbitmq-users.yaml states the same patterns as Messaging Topology Operator objects.
set -eu

vhost="${RABBITMQ_VHOST:-/}"
exchange="${INVALIDATION_EXCHANGE:-memshop.invalidation}"
prefix="${QUEUE_PREFIX:-memshop}"
rabbitmqctl="${RABBITMQCTL:-rabbitmqctl}"

regex_escape() { printf '%s' "$1" | sed 's/[].[^$*+?(){}|\\]/\\&/g'; }

patterns() {
  ex="$(regex_escape "$exchange")"
  queue="$(regex_escape "$prefix.$1.invalidation")"
  # Only order-service keeps copies of other services' data, so only it runs an early purge.
  case "$1" in
    order) kinds='(near|purge)' ;;
    *) kinds='near' ;;
  esac
  own="$(regex_escape "$prefix.$1")\\.$kinds\\.[0-9a-f-]+"
  exchanges="$ex|$ex\\.dead-letter"
  configure="^($exchanges|$queue(\\.quorum(\\.parked)?)?|$own)\$"
  write="^($exchanges|$queue\\.quorum(\\.parked)?|$own)\$"
  read="$write"
}

if [ "${1:-}" = "--print" ]; then
  patterns "${2:?usage: service-user.sh --print <service>}"
  printf 'configure %s\nwrite %s\nread %s\n' "$configure" "$write" "$read"
  exit 0
fi

service="${1:?usage: service-user.sh <service> <username>}"
username="${2:?usage: service-user.sh <service> <username>}"
password="${SERVICE_PASSWORD:?SERVICE_PASSWORD is required}"
patterns "$service"

# add_user reads the password from stdin when none is given, so it never shows in a process list.
# A new user has no tags; an existing one loses any it was given (no management UI access).
if $rabbitmqctl --quiet list_users | cut -f1 | grep -qx "$username"; then
  printf '%s\n' "$password" | $rabbitmqctl --quiet change_password "$username"
  $rabbitmqctl --quiet set_user_tags "$username"
else
  printf '%s\n' "$password" | $rabbitmqctl --quiet add_user "$username"
fi
$rabbitmqctl --quiet set_permissions -p "$vhost" "$username" "$configure" "$write" "$read"
echo "rabbitmq: $username may use the queues of $service in vhost $vhost"

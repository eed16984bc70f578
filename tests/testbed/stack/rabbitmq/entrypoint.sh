#!/bin/sh
# The default user and password go into rabbitmq.conf (mode 0600, owner rabbitmq), never argv.
set -eu
: "${RABBITMQ_DEFAULT_PASS:?RABBITMQ_DEFAULT_PASS must be set}"
umask 077
mkdir -p /etc/rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
{
  echo "listeners.tcp.default = 5672"
  echo "loopback_users = none"
  echo "default_user = ${RABBITMQ_DEFAULT_USER:-sutazai}"
  echo "default_pass = ${RABBITMQ_DEFAULT_PASS}"
} >/etc/rabbitmq/rabbitmq.conf
chown -R rabbitmq:rabbitmq /etc/rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
export HOME=/var/lib/rabbitmq
exec su rabbitmq -s /bin/sh -c 'exec /usr/lib/rabbitmq/bin/rabbitmq-server'

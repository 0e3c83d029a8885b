#!/bin/sh
# The VideoRoom admin key comes from the environment (JANUS_ADMIN_KEY, the value Django sends when
# it creates a room): without one anybody reaching the API could create rooms.
set -eu
: "${JANUS_ADMIN_KEY:?set JANUS_ADMIN_KEY (docker/.env)}"
sed "s|@ADMIN_KEY@|${JANUS_ADMIN_KEY}|" /etc/smartc-janus/janus.plugin.videoroom.jcfg.in \
  > /etc/smartc-janus/janus.plugin.videoroom.jcfg
# JANUS_PUBLIC_IP: the host's public address, announced in ICE candidates when Janus sits behind NAT.
exec janus -F /etc/smartc-janus -C /etc/smartc-janus/janus.jcfg ${JANUS_PUBLIC_IP:+--nat-1-1=$JANUS_PUBLIC_IP} "$@"

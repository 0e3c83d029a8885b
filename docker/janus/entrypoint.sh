#!/bin/sh
# The key Django shares with Janus comes from the environment (JANUS_ADMIN_KEY): the VideoRoom
# admin_key (only Django creates rooms) and Janus's api_secret and admin_secret (only Django adds
# the tokens browsers need).
set -eu
: "${JANUS_ADMIN_KEY:?set JANUS_ADMIN_KEY (docker/.env)}"
for name in janus.jcfg janus.plugin.videoroom.jcfg; do
  sed "s|@ADMIN_KEY@|${JANUS_ADMIN_KEY}|" "/etc/smartc-janus/$name.in" > "/etc/smartc-janus/$name"
done
# JANUS_PUBLIC_IP: the host's public address, announced in ICE candidates when Janus sits behind NAT.
exec janus -F /etc/smartc-janus -C /etc/smartc-janus/janus.jcfg ${JANUS_PUBLIC_IP:+--nat-1-1=$JANUS_PUBLIC_IP} "$@"

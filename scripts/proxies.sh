#!/usr/bin/env bash
# Real proxies for the proxy traversal tests (docs/proxy.md), on 127.0.0.1, each with a generated
# config in a directory of its own:
#   tinyproxy   HTTP CONNECT, no auth                    TINYPROXY_PORT
#   tinyproxy   HTTP CONNECT, Basic auth (wskit:s3cret)  TINYPROXY_AUTH_PORT
#   tinyproxy   HTTP CONNECT to port 1 only (403)        TINYPROXY_DENY_PORT
#   tinyproxy   with a dead upstream proxy (502)         TINYPROXY_BADGW_PORT
#   squid       HTTP CONNECT, no auth (503 for refused)  SQUID_PORT
#   squid       behind stunnel (https:// proxy, TLS)     HTTPS_PROXY_PORT (cert: $DIR/proxy-cert.pem)
#   dante       SOCKS5, no auth                          DANTE_PORT
#   dante       SOCKS5, username/password                DANTE_AUTH_PORT (user wskitsocks:s3cret)
#
# Usage: scripts/proxies.sh install          apt-get the packages if missing (idempotent; root)
#        scripts/proxies.sh start DIR        start them all; writes DIR/ports.env (KEY=VALUE lines)
#                                            and prints it; waits until every port accepts
#        scripts/proxies.sh stop DIR         stop what `start DIR` started
# The SOCKS5 username/password check of dante uses the system's password database: `install`
# creates the user wskitsocks (no shell, no home) with the password s3cret.
set -euo pipefail
cd "$(dirname "$0")/.."

PROXY_USER=wskit
PROXY_PASS=s3cret
SOCKS_USER=wskitsocks
SOCKS_PASS=s3cret

install() {
  local missing=()
  command -v tinyproxy >/dev/null || missing+=(tinyproxy)
  command -v squid >/dev/null || [ -x /usr/sbin/squid ] || missing+=(squid)
  command -v danted >/dev/null || [ -x /usr/sbin/danted ] || missing+=(dante-server)
  command -v stunnel4 >/dev/null || missing+=(stunnel4)
  command -v openssl >/dev/null || missing+=(openssl)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "proxies: apt-get install ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # The packages' own services are not used (and not running in a container); stop them if a
  # postinst started them, so that they hold no port.
  for svc in tinyproxy squid danted; do
    command -v service >/dev/null && service "$svc" stop >/dev/null 2>&1 || true
  done
  if ! id "$SOCKS_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$SOCKS_USER"
  fi
  echo "$SOCKS_USER:$SOCKS_PASS" | chpasswd
}

free_port() { bash scripts/free-port.sh; }

wait_port() { # wait_port PORT NAME LOG
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "proxies: $2 did not listen on port $1; its log:" >&2
  tail -20 "$3" >&2 || true
  return 1
}

tinyproxy_conf() { # tinyproxy_conf PORT EXTRA...
  local port=$1
  shift
  printf 'Port %s\nListen 127.0.0.1\nTimeout 30\nMaxClients 64\nAllow 127.0.0.1\nLogLevel Info\nDisableViaHeader Yes\n' "$port"
  printf '%s\n' "$@"
}

start() {
  local dir=$1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir"
  install >/dev/null
  : >"$dir/pids"
  local tp tpa tpd tpb sq hp dn dna
  tp=$(free_port)
  tpb=$(free_port)
  tpa=$(free_port)
  tpd=$(free_port)
  sq=$(free_port)
  hp=$(free_port)
  dn=$(free_port)
  dna=$(free_port)

  # tinyproxy runs in the foreground (-d) as the invoking user: no pid file, no syslog.
  tinyproxy_conf "$tp" >"$dir/tinyproxy.conf"
  tinyproxy_conf "$tpa" "BasicAuth $PROXY_USER $PROXY_PASS" >"$dir/tinyproxy-auth.conf"
  tinyproxy_conf "$tpd" "ConnectPort 1" >"$dir/tinyproxy-deny.conf"
  tinyproxy_conf "$tpb" "Upstream http 127.0.0.1:1" >"$dir/tinyproxy-badgw.conf"
  for name in tinyproxy tinyproxy-auth tinyproxy-deny tinyproxy-badgw; do
    tinyproxy -d -c "$dir/$name.conf" >"$dir/$name.log" 2>&1 &
    echo $! >>"$dir/pids"
  done

  # squid: no cache, no access log, everything from localhost allowed (CONNECT to any port).
  mkdir -p "$dir/squid"
  chown proxy: "$dir/squid" 2>/dev/null || chmod 777 "$dir/squid"
  cat >"$dir/squid.conf" <<EOF
http_port 127.0.0.1:$sq
acl localnet src 127.0.0.0/8
http_access allow localnet
http_access deny all
cache deny all
cache_mem 8 MB
access_log none
cache_log $dir/squid/cache.log
pid_filename $dir/squid/squid.pid
coredump_dir $dir/squid
cache_effective_user proxy
shutdown_lifetime 0 seconds
connect_timeout 5 seconds
dns_v4_first on
EOF
  /usr/sbin/squid -N -f "$dir/squid.conf" >"$dir/squid.log" 2>&1 &
  echo $! >>"$dir/pids"

  # stunnel terminates TLS in front of squid: an https:// proxy URL.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "basicConstraints=critical,CA:FALSE" \
    -keyout "$dir/proxy-key.pem" -out "$dir/proxy-cert.pem" >/dev/null 2>&1
  cat >"$dir/stunnel.conf" <<EOF
foreground = yes
pid =
output = $dir/stunnel.log
[https-proxy]
accept = 127.0.0.1:$hp
connect = 127.0.0.1:$sq
cert = $dir/proxy-cert.pem
key = $dir/proxy-key.pem
EOF
  stunnel4 "$dir/stunnel.conf" >>"$dir/stunnel.log" 2>&1 &
  echo $! >>"$dir/pids"

  # dante: SOCKS5 on loopback, as root (it switches to nobody where it can), connecting out on lo.
  for spec in "danted:$dn:none" "danted-auth:$dna:username"; do
    local name=${spec%%:*} rest=${spec#*:}
    local port=${rest%%:*} method=${rest#*:}
    cat >"$dir/$name.conf" <<EOF
logoutput: $dir/$name.log
errorlog: $dir/$name.log
internal: 127.0.0.1 port = $port
external: 127.0.0.1
clientmethod: none
socksmethod: $method
user.privileged: root
user.unprivileged: nobody
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
}
socks pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  command: connect
}
EOF
    /usr/sbin/danted -f "$dir/$name.conf" -p "$dir/$name.pid" -N 1 >>"$dir/$name.log" 2>&1 &
    echo $! >>"$dir/pids"
  done

  wait_port "$tp" tinyproxy "$dir/tinyproxy.log"
  wait_port "$tpa" tinyproxy-auth "$dir/tinyproxy-auth.log"
  wait_port "$tpd" tinyproxy-deny "$dir/tinyproxy-deny.log"
  wait_port "$tpb" tinyproxy-badgw "$dir/tinyproxy-badgw.log"
  wait_port "$sq" squid "$dir/squid/cache.log"
  wait_port "$hp" stunnel "$dir/stunnel.log"
  wait_port "$dn" danted "$dir/danted.log"
  wait_port "$dna" danted-auth "$dir/danted-auth.log"
  cat >"$dir/ports.env" <<EOF
TINYPROXY_PORT=$tp
TINYPROXY_AUTH_PORT=$tpa
TINYPROXY_DENY_PORT=$tpd
TINYPROXY_BADGW_PORT=$tpb
SQUID_PORT=$sq
HTTPS_PROXY_PORT=$hp
HTTPS_PROXY_CA=$dir/proxy-cert.pem
DANTE_PORT=$dn
DANTE_AUTH_PORT=$dna
PROXY_USER=$PROXY_USER
PROXY_PASS=$PROXY_PASS
SOCKS_USER=$SOCKS_USER
SOCKS_PASS=$SOCKS_PASS
EOF
  cat "$dir/ports.env"
}

stop() {
  local dir=$1
  [ -f "$dir/pids" ] || return 0
  while read -r pid; do
    kill "$pid" 2>/dev/null || true
  done <"$dir/pids"
  while read -r pid; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done <"$dir/pids"
  rm -f "$dir/pids"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:?usage: proxies.sh start DIR}" ;;
  stop) stop "${2:?usage: proxies.sh stop DIR}" ;;
  *)
    echo "usage: scripts/proxies.sh install | start DIR | stop DIR" >&2
    exit 2
    ;;
esac

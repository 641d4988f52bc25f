#!/bin/bash
# Installs (Debian/Ubuntu, as root) what the benchmarks in this directory
# run: Squid and Dante (SOCKS) as the peers, nginx as the origin, wrk,
# iperf3 with proxychains4, curl and python3.  Only missing packages are
# installed.
set -eu
pkgs=()
need()
{
    command -v "$1" >/dev/null 2>&1 || [ -x "$3" ] || pkgs+=("$2")
}
need squid squid /usr/sbin/squid
need nginx nginx-light /usr/sbin/nginx
need wrk wrk /usr/bin/wrk
need iperf3 iperf3 /usr/bin/iperf3
need proxychains4 proxychains4 /usr/bin/proxychains4
need curl curl /usr/bin/curl
need python3 python3 /usr/bin/python3
need danted dante-server /usr/sbin/danted
if [ ${#pkgs[@]} -eq 0 ]; then
    echo "benchmark dependencies present"
    exit 0
fi
echo "installing: ${pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${pkgs[@]}"
# The Debian squid package starts a system Squid on port 3128; the
# benchmarks start their own on free loopback ports and do not need it.

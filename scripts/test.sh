#!/usr/bin/env bash
# Runs every test of otpgate: installs the services the tests start (Debian packages) and
# tox if they are missing, then runs the tox environments in parallel.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-sentinel >/dev/null || need+=(redis-sentinel)
command -v redis-cli >/dev/null || need+=(redis-tools)
[ -x /usr/sbin/bearerbox ] && [ -x /usr/sbin/smsbox ] || need+=(kannel)
[ -x /usr/lib/kannel/test/fakesmsc ] || need+=(kannel-extras)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium)
command -v npm >/dev/null || need+=(npm)  # axe-core, the accessibility audit's engine
command -v dot >/dev/null || need+=(graphviz)
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
if ((${#need[@]})); then
    echo "==> installing ${need[*]} (servers and the browser the tests start on loopback)"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi

# Python 3.10 and 3.13 come from pyenv on the reference machine; elsewhere from PATH.
if command -v pyenv >/dev/null; then
    for bin in "$(pyenv root)"/versions/3.1[0-9]*/bin; do
        PATH="$PATH:$bin"
    done
    export PATH
fi
python3 -m tox --version >/dev/null 2>&1 || {
    echo "==> installing tox"
    python3 -m pip install --quiet "tox>=4.14"
}

echo "==> running every tox environment in parallel (see tox.ini's env_list)"
exec python3 -m tox run-parallel --parallel auto --parallel-live "$@"

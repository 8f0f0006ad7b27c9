#!/usr/bin/env bash
# Installs what ib-stream needs to build and test, from Debian packages and
# (for the test-side clients) npm. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ccache pkg-config git curl
  dpkg-dev # dpkg-shlibdeps: the .deb's dependencies (cpack -G DEB)
  tzdata   # /usr/share/zoneinfo: trading hours (a dependency of the .deb)
  clang clang-format clang-tidy
  libclang-rt-14-dev # the sanitizer and libFuzzer runtimes (only recommended by clang)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libcli11-dev libspdlog-dev libfmt-dev libvalijson-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libsqlite3-dev sqlite3
  libnats-dev nats-server # the NATS C client; the server for the scale-out tests
  python3 python3-requests python3-websockets python3-jsonschema
  nodejs npm
  chromium
  prometheus # promtool and a Prometheus server for the /metrics test
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs may come from another repository that bundles npm: accept any node+npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ -f package-lock.json ]]; then
  if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi

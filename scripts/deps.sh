#!/usr/bin/env bash
# Installs the Debian 12 packages tpwallet needs to build and test, if any are missing.
set -euo pipefail
PACKAGES=(g++ cmake ninja-build pkg-config libcli11-dev libsodium-dev libgtest-dev libgmock-dev
          libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
          libqrencode-dev  # QR codes of payment requests and tokens in `tpwallet wallet/terminal`
          libtomlplusplus-dev  # toml++: risk rules files with line/column errors (src/risk)
          clang-14 libclang-rt-14-dev  # clang + libFuzzer for scripts/fuzz.sh
          lld)  # the LLVM linker: links the test binaries ~5x faster than GNU ld
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "tpwallet: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

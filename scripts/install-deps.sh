#!/usr/bin/env bash
# Installs the Debian 12 packages lorasplit needs, only those that are missing.
#   scripts/install-deps.sh          build, CLI and tests
#   scripts/install-deps.sh --fuzz   also clang and libFuzzer's runtime (the asan preset: CI's sanitizer
#                                    and fuzzing build)
set -euo pipefail
pkgs=(cmake ninja-build g++ pkg-config libgmp-dev libfmt-dev nlohmann-json3-dev
      libtomlplusplus-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev gnuplot-nox libxml2-utils glpk-utils libglpk-dev coinor-libcbc-dev libopenblas-dev
      pybind11-dev python3-dev python3-pytest python3-numpy python3-matplotlib python3-torch
      python3-distributed python3-pandas)
if [ "${1:-}" = "--fuzz" ]; then pkgs+=(clang libclang-rt-14-dev); fi
missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

#!/usr/bin/env bash
# Installs dengine's build and test dependencies from Debian 12's packages.
# Idempotent: packages already present are skipped, and apt is not touched when none are missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache lld pkg-config
  libasio-dev librocksdb-dev
  libprotobuf-dev protobuf-compiler
  # gRPC's CMake config fails at configure time without the plugins, which libgrpc++-dev
  # does not pull in.
  libgrpc++-dev protobuf-compiler-grpc
  libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libconcurrentqueue-dev
  # dengine-server: etcd's YAML config files, and SHA-1 for etcd's member and cluster ids.
  libyaml-cpp-dev libssl-dev
  # etcdctl 3.4.23, which the server's end-to-end tests drive, and etcd 3.4.23 itself, which the
  # differential test runs the same etcdctl script against.
  etcd-client etcd-server
  # Node.js and npm for examples/clients (the npm etcd3 client against dengine-server).
  nodejs npm
  # libFuzzer's runtime for the fuzz preset.
  clang-14 libclang-rt-14-dev
  clang-format clang-tidy
)

# Packages that an installed package provides count as present: a nodejs from elsewhere
# (NodeSource's) bundles npm and conflicts with Debian's.
provided=$(dpkg-query -W -f='${db:Status-Abbrev} ${Provides}\n' 2>/dev/null |
  awk '$1 == "ii" { $1 = ""; print }' | tr ',' '\n' | awk '{ print $1 }' | sort -u)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" &&
    ! grep -qxF "$package" <<<"$provided"; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

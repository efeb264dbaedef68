#!/usr/bin/env bash
# The tests that need what a bare machine lacks, marked [Trait("Category", "System")]: Debian packages — Fashion-MNIST
# (/usr/share/datasets/fashion-mnist), headless Chromium (the report pages), PyTorch (python3-torch: it loads our
# exports, tests/Langevin.Tests/Interop/PyTorchLoadTests.cs) and MPICH (mpiexec: the data-parallel training test) — and root (a disk-full test mounts a small
# tmpfs). Installs the packages that are missing (as root, or with sudo), then runs them; run it as root for the tmpfs test.
# `dotnet test Langevin.sln -c Release` (README command 2) runs everything else; .ci/run runs both.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v mpiexec.mpich >/dev/null 2>&1 || need+=(mpich)
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || need+=(python3-torch)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q "${need[@]}"
fi
dotnet test Langevin.sln -c Release --settings tests/system.runsettings "$@"

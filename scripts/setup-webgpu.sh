#!/usr/bin/env bash
# Installs WebGPU-on-the-CPU for the tests: Mesa's lavapipe (a Vulkan driver that runs on the CPU).
# Idempotent; safe to run on every CI run (a second run takes well under a second).
#
# 1. System packages mesa-vulkan-drivers + libvulkan1 (Debian 12's stock lavapipe, Mesa 22.3):
#    enough for Deno's built-in WebGPU.
# 2. Mesa 25's lavapipe from bookworm-backports, unpacked into $CAR_WEBGPU_DIR without touching the
#    system's apt configuration: Dawn (the `webgpu` npm package used on Node and Bun) needs it.
# 3. Writes the environment the tests need (VK_ICD_FILENAMES, VK_DRIVER_FILES, XDG_RUNTIME_DIR) to
#    `.webgpu-env` in the repository root (KEY=VALUE lines, read by scripts/run-tests.mjs and
#    bench/inference.ts) and prints it as `export` lines.
#
# Settings (environment): CAR_WEBGPU_DIR (default ~/.cache/car-server/webgpu),
# CAR_WEBGPU_MIRROR (default: the first deb.debian.org-style URI in /etc/apt/sources.list.d/debian.sources,
# else http://deb.debian.org/debian). Needs root (or sudo) for step 1 only; without it, step 1 is skipped
# with a message when the packages are missing.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${CAR_WEBGPU_DIR:-${HOME:-/root}/.cache/car-server/webgpu}"
envfile="$repo/.webgpu-env"
arch="$(dpkg --print-architecture 2>/dev/null || echo unknown)"
case "$arch" in
  amd64) triplet=x86_64-linux-gnu ;;
  arm64) triplet=aarch64-linux-gnu ;;
  *) echo "setup-webgpu: unsupported architecture '$arch' (Debian amd64/arm64 only); WebGPU tests will be skipped" >&2; exit 0 ;;
esac

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# --- 1. system Vulkan loader + stock lavapipe ---------------------------------------------------
if ! dpkg -s libvulkan1 mesa-vulkan-drivers >/dev/null 2>&1; then
  echo "setup-webgpu: installing libvulkan1 mesa-vulkan-drivers" >&2
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1 mesa-vulkan-drivers >/dev/null; }; then
    echo "setup-webgpu: could not install libvulkan1/mesa-vulkan-drivers (need root and Debian apt); WebGPU tests will be skipped" >&2
    exit 0
  fi
fi

# --- 2. Mesa 25 lavapipe from bookworm-backports, unpacked privately -----------------------------
lvp="$dir/root/usr/lib/$triplet/libvulkan_lvp.so"
icd="$dir/lvp_icd.json"
if [ ! -f "$lvp" ] || [ ! -f "$icd" ]; then
  mirror="${CAR_WEBGPU_MIRROR:-}"
  if [ -z "$mirror" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
    mirror="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  fi
  mirror="${mirror:-http://deb.debian.org/debian}"
  echo "setup-webgpu: fetching Mesa lavapipe from bookworm-backports ($mirror) into $dir" >&2
  rm -rf "$dir/apt" "$dir/debs" "$dir/root"
  mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/debs" "$dir/root"
  echo "deb $mirror bookworm-backports main" > "$dir/apt/sources.list"
  opts=(-o "Dir::Etc::SourceList=$dir/apt/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
        -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
  if ! { apt-get "${opts[@]}" update -qq && (cd "$dir/debs" && apt-get "${opts[@]}" download -qq \
    mesa-vulkan-drivers/bookworm-backports libdrm2/bookworm-backports libdrm-amdgpu1/bookworm-backports); }; then
    echo "setup-webgpu: could not download Mesa from bookworm-backports; Node/Bun WebGPU tests will be skipped (Deno still works)" >&2
    rm -rf "$dir/apt" "$dir/debs" "$dir/root"
    exit 0
  fi
  for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
  [ -f "$lvp" ] || { echo "setup-webgpu: $lvp missing after unpacking" >&2; exit 1; }
  cat > "$icd" <<EOF
{"file_format_version":"1.0.1","ICD":{"api_version":"1.4.305","library_path":"$lvp"}}
EOF
  rm -rf "$dir/apt" "$dir/debs"
fi

# --- 3. environment --------------------------------------------------------------------------------
cat > "$envfile" <<EOF
VK_ICD_FILENAMES=$icd
VK_DRIVER_FILES=$icd
LD_LIBRARY_PATH=$dir/root/usr/lib/$triplet${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
EOF
echo "setup-webgpu: wrote $envfile" >&2
sed 's/^/export /' "$envfile"

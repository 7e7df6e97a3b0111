#!/usr/bin/env bash
# Set up tcp-lab on a fresh Debian/Ubuntu machine: the system tools the labs use (installed with apt-get
# when missing; tcpdump reads the labs' pcap files and the tests compare against it), then the npm
# dependencies (npm ci). Safe to run again.
#   --browser  also install a headless browser (Debian's chromium), which the report.html test renders with
#   --kernels  also install what running labs under other kernels needs (QEMU, a static busybox, kmod, xz, zstd);
#              then fetch kernels with 'npm run lab kernels -- add 6.1'
set -euo pipefail
cd "$(dirname "$0")/.."

browser=0
kernels=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    --kernels) kernels=1 ;;
    -h|--help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "setup: unknown option '$arg' (known: --browser, --kernels)" >&2; exit 2 ;;
  esac
done

# program -> Debian package
declare -A NEED=(
  [ss]=iproute2 [ip]=iproute2
  [unshare]=util-linux [nsenter]=util-linux [prlimit]=util-linux
  [nft]=nftables
  [nstat]=iproute2
  [tcpdump]=tcpdump
)
if [ "$kernels" -eq 1 ]; then
  NEED+=([qemu-system-x86_64]=qemu-system-x86 [depmod]=kmod [modprobe]=kmod [xz]=xz-utils [zstd]=zstd [setpriv]=util-linux [dpkg-deb]=dpkg)
fi
missing=()
for prog in "${!NEED[@]}"; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$prog" >/dev/null 2>&1 || missing+=("${NEED[$prog]}")
done
# the guest's initramfs needs busybox linked statically (Debian's busybox package is not)
if [ "$kernels" -eq 1 ] && [ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" != "install ok installed" ]; then
  missing+=(busybox-static)
fi
# Debian names the browser chromium; Ubuntu's older releases chromium-browser (either will do)
if [ "$browser" -eq 1 ] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  missing+=(chromium)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "setup: installing system packages: $pkgs"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""
  elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"
  else echo "setup: missing $pkgs and not root (no sudo either): run 'apt-get install -y $pkgs' as root, then this again" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
else
  echo "setup: system packages already present"
fi

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<5)) { console.error("setup: Node >= 20.5 is required, found "+process.versions.node); process.exit(1) }'
echo "setup: npm ci"
npm ci --no-audit --no-fund --loglevel=error
if [ "$kernels" -eq 1 ]; then echo "setup: done. Try: npm run lab list; fetch a kernel with: npm run lab kernels -- add 6.1"
else echo "setup: done. Try: npm run lab list"
fi

#!/bin/sh
# Install the Debian packages nfsguard needs, when they are missing, and
# say what was installed.  Usage: tools/deps.sh build [test] [bench] [kernels] [package]
#   build: what 'make' and 'nfsguard run' need
#   test:  what 'make test' needs on top (namespaces, uids, NFS server, client,
#          bash completion, YAML for the deploy/ example)
#   package: what 'make test-package' needs on top (dpkg-buildpackage,
#          debhelper, lintian; man for the unit's Documentation=)
#   bench: what 'make bench' needs on top (namespaces, uids, the firewalls
#          it compares nfsguard with)
#   kernels: what 'make test-kernels' needs on top (qemu, an initramfs of
#          busybox, the guests' modprobe and the kernel NFS client's mount)
set -eu

BUILD_PKGS="make gcc libc6-dev clang llvm pkg-config libbpf-dev libelf-dev zlib1g-dev libinih-dev libmnl-dev libmicrohttpd-dev bpftool"
TEST_PKGS="iproute2 util-linux mount python3 nftables systemd libclang-rt-14-dev nfs-ganesha nfs-ganesha-vfs libnfs-utils prometheus bash-completion python3-yaml stunnel4 openssl"
BENCH_PKGS="iproute2 util-linux python3 iptables nftables"
KERNELS_PKGS="qemu-system-x86 busybox-static cpio kmod xz-utils zstd nfs-common debian-archive-keyring"
PACKAGE_PKGS="dpkg-dev debhelper lintian bash-completion man-db apt"

want=""
for set in "$@"; do
	case "$set" in
	build) want="$want $BUILD_PKGS" ;;
	test) want="$want $TEST_PKGS" ;;
	bench) want="$want $BENCH_PKGS" ;;
	kernels) want="$want $KERNELS_PKGS" ;;
	package) want="$want $PACKAGE_PKGS" ;;
	*) echo "deps: unknown package set '$set': use build, test, bench, kernels and/or package" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: all needed packages are installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing: run as root (make deps, in a root shell or with sudo) or install them" >&2
	exit 1
fi
command -v apt-get >/dev/null 2>&1 || {
	echo "deps: missing packages:$missing, and no apt-get: install them by hand" >&2
	exit 1
}

# Packages such as nfs-ganesha start a service on install: the tests run
# their own server in a namespace, so keep the host's from starting.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	own_policy=1
fi
cleanup() { [ -z "$own_policy" ] || rm -f "$policy"; }
trap cleanup EXIT

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
case " $missing " in
*" nfs-ganesha "*)
	# Installed for the tests only: not a service of this host.
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now nfs-ganesha >/dev/null 2>&1 || true
	fi ;;
esac
echo "deps: installed:$missing"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# Fetch and unpack one Debian kernel for the kernel matrix, with apt state
# kept in the build folder (the system's apt configuration is not touched).
#   tools/kernels/fetch.sh OUT SUITE
# SUITE is bullseye, bookworm or trixie: its linux-image-amd64, from the
# suite and its -security suite. Unpacks into OUT/SUITE/root, writes
# OUT/SUITE/release (the kernel's uname -r) last, and does nothing when
# that file is already there.
set -eu

# apt takes relative Dir:: paths as relative to /etc/apt: make them absolute.
out=$(realpath -m "$1")
suite=$2
dir=$out/$suite
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

if [ -s "$dir/release" ]; then
	exit 0
fi
[ -r "$keyring" ] || {
	echo "kernels: no $keyring: install debian-archive-keyring" >&2
	exit 1
}

apt=$out/apt/$suite
tmp=""
cleanup() { [ -z "$tmp" ] || rm -rf "$tmp"; }
trap cleanup EXIT

mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
: >"$apt/status"
cat >"$apt/sources.list" <<LIST
deb [signed-by=$keyring] http://deb.debian.org/debian $suite main
deb [signed-by=$keyring] http://deb.debian.org/debian-security $suite-security main
LIST

aptopts=(-o "Dir::Etc::SourceList=$apt/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o Dir::Etc::Preferences=/dev/null
	-o Dir::Etc::PreferencesParts=/dev/null
	-o "Dir::State::Lists=$apt/lists"
	-o "Dir::State::status=$apt/status"
	-o "Dir::Cache=$apt/cache"
	-o APT::Architecture=amd64
	-o APT::Architectures::=amd64
	-o Debug::NoLocking=1
	-o APT::Sandbox::User=root)

echo "  APT      $suite: linux-image-amd64"
apt-get "${aptopts[@]}" -qq update
# The metapackage depends on the real image, linux-image-<release>.
pkg=$(apt-cache "${aptopts[@]}" show --no-all-versions linux-image-amd64 |
	sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*-amd64\).*/\1/p' | head -n1)
[ -n "$pkg" ] || {
	echo "kernels: $suite: no linux-image-<release>-amd64 in linux-image-amd64's Depends" >&2
	exit 1
}
release=${pkg#linux-image-}
deb=$(find "$apt/debs" -name "${pkg}_*.deb" | head -n1)
if [ -z "$deb" ]; then
	(cd "$apt/debs" && apt-get "${aptopts[@]}" -qq download "$pkg")
	deb=$(find "$apt/debs" -name "${pkg}_*.deb" | head -n1)
fi
[ -n "$deb" ] || { echo "kernels: $suite: $pkg was not downloaded" >&2; exit 1; }

echo "  UNPACK   $suite: $(basename "$deb")"
tmp=$(mktemp -d "$out/.unpack-$suite.XXXXXX")
dpkg-deb -x "$deb" "$tmp"
# Images put modules in /lib/modules or (merged /usr) /usr/lib/modules.
mods=$tmp/lib/modules/$release
[ -d "$mods" ] || mods=$tmp/usr/lib/modules/$release
[ -d "$mods" ] && [ -f "$tmp/boot/vmlinuz-$release" ] || {
	echo "kernels: $suite: $deb has no vmlinuz-$release and modules" >&2
	exit 1
}
if [ "$mods" != "$tmp/lib/modules/$release" ]; then
	mkdir -p "$tmp/lib/modules"
	mv "$mods" "$tmp/lib/modules/$release"
fi
# The package leaves modules.dep to its postinst: make it here.
depmod -b "$tmp" "$release"
rm -rf "$dir"
mkdir -p "$dir"
mv "$tmp" "$dir/root"
tmp=""
echo "$release" >"$dir/release"

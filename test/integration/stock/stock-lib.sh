# shellcheck shell=bash
# Host-side helpers for the stock-kernel tests (sourced after host-lib.sh):
# which Debian stock kernel to boot, and the stock modules a test needs.

# stock_release: the release (REL) of the installed linux-image-REL package
# whose version equals linux-source-6.1's, e.g. 6.1.0-56-cloud-amd64. The ABI
# number moves with security updates, so it is looked up, never written down.
stock_release() {
	local version rel
	version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
		die "linux-source-6.1 is not installed; run scripts/setup.sh"
	rel=$(dpkg-query -W -f='${db:Status-Status} ${Version} ${Package}\n' \
		'linux-image-[0-9]*-cloud-amd64' 2>/dev/null |
		awk -v v="$version" '$1 == "installed" && $2 == v { sub(/^linux-image-/, "", $3); print $3; exit }')
	[ -n "$rel" ] ||
		die "no linux-image-*-cloud-amd64 $version installed (the version of linux-source-6.1); run scripts/setup.sh"
	echo "$rel"
}

# stock_kernel_image REL: the bzImage the test boots.
stock_kernel_image() {
	local image=/boot/vmlinuz-$1
	[ -r "$image" ] || die "$image missing or unreadable; run scripts/setup.sh (installs linux-image-$1)"
	echo "$image"
}

# stock_module_with_dependencies REL PATH: the stock module PATH (relative to
# /lib/modules/REL/kernel, e.g. fs/binfmt_misc.ko) and the modules it needs,
# one file a line, in load order (dependencies first). modules.dep lists a
# module's dependencies transitively, each after the ones that need it.
stock_module_with_dependencies() {
	local rel=$1 path=$2 dir=/lib/modules/$1 deps i
	[ -f "$dir/kernel/$path" ] ||
		die "$dir/kernel/$path missing (compressed or not a module in $rel?)"
	deps=$(sed -n "s|^kernel/$path: *||p" "$dir/modules.dep")
	read -r -a deps <<<"$deps"
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		[ -f "$dir/${deps[i]}" ] || die "$dir/${deps[i]} (needed by $path) missing"
		echo "$dir/${deps[i]}"
	done
	echo "$dir/kernel/$path"
}

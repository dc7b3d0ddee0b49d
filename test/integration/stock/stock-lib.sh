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

# cloud_image_versions: "linux-image-REL version" for every cloud image
# version the local apt lists know.
cloud_image_versions() {
	local names
	mapfile -t names < <(apt-cache pkgnames linux-image-6.1.0- | grep -E '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$')
	[ ${#names[@]} -gt 0 ] || die "no linux-image-6.1.0-*-cloud-amd64 in the apt lists (apt-get update?)"
	apt-cache show "${names[@]}" 2>/dev/null | awk '/^Package: /{p=$2} /^Version: /{print p, $2}'
}

# older_archived_release: a cloud release older than the installed one that
# the archive still has with its source: the newest linux-image-REL-cloud-amd64
# (from the local apt lists) whose version is below the installed
# linux-source-6.1's and for which the archive has linux-source-6.1 at that
# version. Looked up, never written down.
older_archived_release() {
	local installed sources pkg version best= best_version=
	installed=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
		die "linux-source-6.1 is not installed; run scripts/setup.sh"
	sources=$(apt-cache madison linux-source-6.1 | awk '{print $3}')
	while read -r pkg version; do
		grep -qxF "$version" <<<"$sources" || continue
		dpkg --compare-versions "$version" lt "$installed" || continue
		if [ -z "$best" ] || dpkg --compare-versions "$version" gt "$best_version"; then
			best=${pkg#linux-image-} best_version=$version
		fi
	done < <(cloud_image_versions)
	[ -n "$best" ] ||
		die "the archive has no cloud release older than $installed with its linux-source-6.1 (apt-get update?)"
	echo "$best"
}

# adjacent_update: "REL FROM TO" for the smallest real update the archive
# offers up to the installed source: TO is the installed linux-source-6.1
# version, FROM the archive's next lower linux-source-6.1 version, REL the
# cloud release built from FROM. Looked up, never written down.
adjacent_update() {
	local to from= version pkg rel=
	to=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
		die "linux-source-6.1 is not installed; run scripts/setup.sh"
	while read -r version; do
		dpkg --compare-versions "$version" lt "$to" || continue
		if [ -z "$from" ] || dpkg --compare-versions "$version" gt "$from"; then
			from=$version
		fi
	done < <(apt-cache madison linux-source-6.1 | awk '{print $3}')
	[ -n "$from" ] || die "the archive has no linux-source-6.1 older than $to (apt-get update?)"
	while read -r pkg version; do
		[ "$version" = "$from" ] && rel=${pkg#linux-image-}
	done < <(cloud_image_versions)
	[ -n "$rel" ] || die "the archive has no cloud image built from linux-source-6.1 $from"
	echo "$rel $from $to"
}

# stock_is_installed REL: whether linux-image-REL is installed.
stock_is_installed() {
	dpkg-query -W -f='${db:Status-Status}' "linux-image-$1" 2>/dev/null | grep -qx installed
}

# unpacked_stock_image REL: a directory holding boot/vmlinuz-REL and
# lib/modules/REL of linux-image-REL as the archive has it, downloaded
# (apt-get download, never installed) and unpacked once into
# ~/.cache/kpatchpp/images/REL (KPP_CACHE_DIR if set; beside kpatch-build's
# own cache entries, which it does not touch).
unpacked_stock_image() {
	local rel=$1 cache=${KPP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kpatchpp} dir tmp
	dir=$cache/images/$rel
	if [ ! -f "$dir/boot/vmlinuz-$rel" ]; then
		tmp=$cache/images/.$rel.$$
		rm -rf "$tmp" && mkdir -p "$tmp"
		(cd "$tmp" && apt-get -q download "linux-image-$rel") >&2 ||
			die "apt-get download linux-image-$rel failed"
		dpkg-deb -x "$tmp"/linux-image-"$rel"_*.deb "$tmp/root"
		# modules.dep is made by the package's postinst; make it here.
		depmod -b "$tmp/root" "$rel"
		rm -rf "$dir"
		mv "$tmp/root" "$dir"
		rm -rf "$tmp"
	fi
	echo "$dir"
}

# stock_root REL: the prefix of REL's boot/ and lib/modules/: "" (the
# system's) when installed, else the unpacked image.
stock_root() {
	if stock_is_installed "$1"; then echo ""; else unpacked_stock_image "$1"; fi
}

# stock_kernel_image REL: the bzImage the test boots.
stock_kernel_image() {
	local image
	image=$(stock_root "$1")/boot/vmlinuz-$1
	[ -r "$image" ] || die "$image missing or unreadable; run scripts/setup.sh (installs linux-image-$1)"
	echo "$image"
}

# stock_module_with_dependencies REL PATH: the stock module PATH (relative to
# /lib/modules/REL/kernel, e.g. fs/binfmt_misc.ko) and the modules it needs,
# one file a line, in load order (dependencies first). modules.dep lists a
# module's dependencies transitively, each after the ones that need it.
stock_module_with_dependencies() {
	local rel=$1 path=$2 dir deps i
	dir=$(stock_root "$rel")/lib/modules/$rel
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

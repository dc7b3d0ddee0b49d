#!/usr/bin/env bash
# Build (or reuse) the kpatch++ test kernel: Debian's linux-source-6.1 with
# `make tinyconfig` + kernel/config.fragment, bzImage + modules, ready for
# out-of-tree modules (make -C TREE M=DIR modules).
#
# Usage: build-test-kernel.sh [--print-dir] [--variant NAME]
#   Final stdout line (the only line with --print-dir) is the tree path:
#   ${KPP_CACHE_DIR:-~/.cache/kpatchpp}/kernels/<key>/linux
#   --variant NAME also applies kernel/variant-NAME.fragment after
#   config.fragment (its lines win) and caches the result under its own key;
#   without it the key is that of the base kernel alone.
# Environment: KPP_KERNEL_TARBALL (default /usr/src/linux-source-6.1.tar.xz),
#   KPP_CACHE_DIR, KPP_JOBS (default nproc+1).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fragment="$here/kernel/config.fragment"
variant=""
# The fragments applied, in order (a later line for the same option wins).
fragments=()
tarball=${KPP_KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
cache_root=${KPP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kpatchpp}
kernels="$cache_root/kernels"
jobs=${KPP_JOBS:-$(($(nproc) + 1))}
# Bump when the build recipe below changes in a way that changes the tree.
recipe_version=2
print_dir_only=0
start=$SECONDS

die() { echo "build-test-kernel: error: $*" >&2; exit 1; }

# Progress goes to stderr so stdout stays machine-readable (the tree path).
progress() { printf '[%4ds] %s\n' $((SECONDS - start)) "$*" >&2; }

parse_args() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--print-dir) print_dir_only=1 ;;
		--variant)
			[ $# -ge 2 ] || die "--variant needs a name (kernel/variant-NAME.fragment)"
			variant=$2
			shift
			;;
		-h | --help) sed -n '2,14p' "$0"; exit 0 ;;
		*) die "unknown argument: $1" ;;
		esac
		shift
	done
}

check_tools() {
	local t
	for t in tar xz gcc make flex bison bc perl flock sha256sum; do
		command -v "$t" >/dev/null || die "'$t' not found; run scripts/setup.sh"
	done
	[ -r "$tarball" ] || die "$tarball missing; install linux-source-6.1 (scripts/setup.sh)"
	local f
	for f in "${fragments[@]}"; do
		[ -r "$f" ] || die "$f missing"
	done
	# Module signing builds scripts/sign-file and certs/ against OpenSSL.
	if grep -qx 'CONFIG_MODULE_SIG=y' "${fragments[@]}"; then
		[ -e /usr/include/openssl/evp.h ] ||
			die "libssl-dev missing (module signing needs it); run scripts/setup.sh"
		command -v openssl >/dev/null || die "'openssl' not found; run scripts/setup.sh"
	fi
	# objtool needs libelf headers; without them the build fails 2 minutes in.
	[ -e /usr/include/gelf.h ] || die "libelf-dev missing (objtool needs it); run scripts/setup.sh"
}

# The key identifies the source (package version, size, mtime: hashing 138 MB
# on every warm call would cost ~0.5 s), the fragment, the compiler and recipe.
cache_key() {
	local srcid pkgver
	pkgver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo unknown)
	srcid="$(basename "$tarball") $pkgver $(stat -c '%s %Y' "$tarball")"
	{
		echo "recipe $recipe_version"
		echo "source $srcid"
		echo "gcc $(gcc --version | head -n1)"
		[ ${#make_vars[@]} -eq 0 ] || echo "make ${make_vars[*]} clang $(clang --version | head -n1)"
		cat "$fragment"
		# Only variants add lines: the base kernel's key must not change.
		if [ -n "$variant" ]; then
			echo "variant $variant"
			cat "${fragments[1]}"
		fi
	} | sha256sum | cut -c1-16
}

# Run a step, appending its output to the log; on failure show the tail.
run_logged() {
	if ! "$@" >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "'$*' failed; full log: $log"
	fi
}

# Every option the fragments ask for must be in the final .config with the
# value of its last line: olddefconfig silently drops options with unmet
# dependencies.
verify_config() {
	local config=$1 line opt got bad=() order=()
	local -A want=()
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
			opt=${BASH_REMATCH[1]}
			[ -n "${want[$opt]+set}" ] || order+=("$opt")
			want[$opt]=${BASH_REMATCH[2]}
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			opt=${BASH_REMATCH[1]}
			[ -n "${want[$opt]+set}" ] || order+=("$opt")
			want[$opt]=n
		fi
	done < <(cat "${fragments[@]}")
	for opt in "${order[@]}"; do
		got=$(sed -n "s/^$opt=//p" "$config")
		[ -n "$got" ] || got=n
		[ "$got" = "${want[$opt]}" ] || bad+=("$opt (wanted ${want[$opt]}, got $got)")
	done
	if [ ${#bad[@]} -gt 0 ]; then
		printf '  dropped/changed by olddefconfig: %s\n' "${bad[@]}" >&2
		die "config fragment not honoured (unmet Kconfig dependencies?); see $config"
	fi
}

configure_tree() {
	local src=$1
	progress "configuring (tinyconfig + ${fragments[*]##*/} + olddefconfig)"
	# ARCH=x86_64 here only: with the default ARCH=x86, tinyconfig would
	# answer "no" to the 64BIT prompt and start from a 32-bit config.
	run_logged make -C "$src" ARCH=x86_64 "${make_vars[@]}" tinyconfig
	run_logged "$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "${fragments[@]}"
	run_logged make -C "$src" ARCH=x86_64 "${make_vars[@]}" olddefconfig
	verify_config "$src/.config"
}

build_tree() {
	local src=$1
	progress "building bzImage modules with -j$jobs (log: $log)"
	# No ARCH= from here on: users of the tree (make -C TREE M=...) run with
	# the default ARCH=x86, and Kconfig re-syncs whenever ARCH changes.
	run_logged make -C "$src" -j"$jobs" "${make_vars[@]}" bzImage modules
	progress "make modules_prepare"
	run_logged make -C "$src" -j"$jobs" "${make_vars[@]}" modules_prepare
	verify_config "$src/.config"
	[ -f "$src/arch/x86/boot/bzImage" ] || die "no bzImage after build; log: $log"
	[ -f "$src/Module.symvers" ] || die "no Module.symvers after build; log: $log"
}

# Build into a private directory inside the cache, then publish it by
# atomically renaming a symlink into place: an interrupted build never looks
# like a finished tree. The tree itself must not move after the build:
# tools/objtool records absolute paths, so a moved tree rebuilds objtool on
# the next `make` and with it every object (measured: 4 minutes).
build_fresh() {
	local key=$1 tree="$kernels/.tree-$1" src
	if [ -e "$tree" ]; then
		progress "removing unfinished build $tree"
		rm -rf "$tree"
	fi
	mkdir -p "$tree"
	progress "cold build in $tree"
	progress "extracting $tarball"
	run_logged tar -xf "$tarball" -C "$tree"
	src="$tree/linux"
	mv "$tree"/linux-source-* "$src"
	# An empty .scmversion makes setlocalversion skip any SCM probing, so the
	# release string is exactly the Makefile version (no '+').
	: >"$src/.scmversion"
	configure_tree "$src"
	build_tree "$src"
	make -s -C "$src" "${make_vars[@]}" kernelrelease >"$tree/kernelrelease"
	cp "$log" "$tree/build.log"
	ln -sfn ".tree-$key" "$kernels/.link-$key.$$"
	mv -T "$kernels/.link-$key.$$" "$kernels/$key"
	progress "built $(cat "$tree/kernelrelease") in $((SECONDS - start))s"
}

main() {
	parse_args "$@"
	fragments=("$fragment")
	[ -z "$variant" ] || fragments+=("$here/kernel/variant-$variant.fragment")
	# A variant's "# make-variable: NAME=VALUE" lines (LLVM=1) go to every
	# make of the build; kbuild records them in include/config/auto.conf.cmd,
	# where kpatch-build reads them back.
	make_vars=()
	while read -r var; do make_vars+=("$var"); done < <(sed -n 's/^# make-variable: //p' "${fragments[@]}")
	check_tools
	mkdir -p "$kernels"
	local key dir
	key=$(cache_key)
	dir="$kernels/$key"
	log="$kernels/$key.build.log"
	if [ ! -f "$dir/kernelrelease" ]; then
		# Serialise concurrent callers; the winner builds, the rest reuse.
		exec 9>"$kernels/$key.lock"
		flock 9
		if [ ! -f "$dir/kernelrelease" ]; then
			rm -rf "$dir"
			: >"$log"
			build_fresh "$key"
		fi
		exec 9>&-
	fi
	[ "$print_dir_only" = 1 ] || progress "kernel tree ready ($(cat "$dir/kernelrelease"))"
	echo "$dir/linux"
}

main "$@"

#!/usr/bin/env bash
# End-to-end test of the patch-module template (kmod/patch) and the livepatch
# converter (kpatch-build/module/klp_convert.cpp) without the diff engine:
#  1. compile a hand-written stand-in for create-diff-object's output.o
#     (a new cmdline_proc_show() from fs/proc/cmdline.c, a .kpatchpp.funcs
#     entry, a post-patch and a pre-unpatch callback, and a reference to the
#     non-exported saved_command_line through .klp.sym.vmlinux...,0);
#  2. build the module with the template via kbuild, convert it;
#  3. boot the test kernel, load it, check /proc/cmdline, enabled, the
#     callbacks, disable, rmmod, check the original is back.
#
# Usage: klp_template_smoke.sh [--workdir DIR]   (default: a fresh temp dir)
# Environment: KPP_KERNEL_TREE (default: build-test-kernel.sh --print-dir),
#   KPP_KLP_CONVERT (a converter "IN.ko OUT.ko Module.symvers"; default: one
#   built here from the sources).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
name=kpp_klp_smoke

KPP_PROG=klp_template_smoke
# shellcheck source=host-lib.sh
. "$here/host-lib.sh"

# Run a logged step; show the log and stop if it fails.
step() {
	local what=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1 || { cat "$log" >&2; die "$what failed (log: $log)"; }
}

write_output_c() {
	cat >"$1/output.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-in for create-diff-object's output for fs/proc/cmdline.c. The
 * patched file is part of vmlinux, so compile it as vmlinux code.
 */
#undef MODULE
#include <linux/printk.h>
#include <linux/seq_file.h>
#include "kpatchpp-macros.h"

/* Not exported: create-diff-object names it in livepatch form. */
extern char *kpp_saved_command_line
	asm("\".klp.sym.vmlinux.saved_command_line,0\"");

static int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s kpatchpp_smoke=1\n", kpp_saved_command_line);
	return 0;
}

static void kpp_smoke_post_patch(struct klp_object *obj)
{
	pr_info("kpp-smoke: post_patch %s\n", obj->name ? obj->name : "vmlinux");
}
KPATCH_POST_PATCH_CALLBACK(kpp_smoke_post_patch);

static void kpp_smoke_pre_unpatch(struct klp_object *obj)
{
	pr_info("kpp-smoke: pre_unpatch %s\n", obj->name ? obj->name : "vmlinux");
}
KPATCH_PRE_UNPATCH_CALLBACK(kpp_smoke_pre_unpatch);

static const char kpp_old_name[] __section(".kpatchpp.strings") =
	"cmdline_proc_show";
static const char kpp_objname[] __section(".kpatchpp.strings") = "vmlinux";

static struct kpp_patch_func kpp_func __used __aligned(8)
	__section(".kpatchpp.funcs") = {
	.new_addr = (unsigned long)cmdline_proc_show,
	.sympos = 0,
	.old_name = kpp_old_name,
	.objname = kpp_objname,
};
EOF
}

# output.o, compiled with the tree's flags plus -ffunction-sections like the
# objects create-diff-object reads.
build_output_o() {
	local tree=$1 dir="$workdir/gen"
	rm -rf "$dir"
	mkdir -p "$dir"
	write_output_c "$dir"
	printf 'obj-m := output.o\nccflags-y := -ffunction-sections -fdata-sections -I%s\n' \
		"$repo/kmod/patch" >"$dir/Kbuild"
	step "compiling output.o" "$workdir/output-build.log" \
		make -C "$tree" M="$dir" output.o
	[ -f "$dir/output.o" ] || die "no output.o produced"
}

# The module exactly as kpatch-build makes it: template sources + output.o.
build_module() {
	local tree=$1 dir="$workdir/module"
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$repo/kmod/patch/Kbuild" "$repo/kmod/patch/kpatchpp-template.c" \
		"$repo/kmod/patch/kpatchpp-module-relocs.c" "$repo/kmod/patch/kpatchpp-module-relocs.h" \
		"$repo/kmod/patch/kpatchpp-macros.h" "$dir/"
	cp "$workdir/gen/output.o" "$dir/"
	step "building $name.ko" "$workdir/module-build.log" \
		make -C "$tree" M="$dir" KPP_NAME=$name KBUILD_MODPOST_WARN=1 modules
	[ -f "$dir/$name.ko" ] || die "no $name.ko produced"
}

converter() {
	if [ -n "${KPP_KLP_CONVERT:-}" ]; then
		echo "$KPP_KLP_CONVERT"
		return
	fi
	local dir="$workdir/klp-convert"
	mkdir -p "$dir"
	cat >"$dir/main.cpp" <<'EOF'
#include "kpatch-build/module/klp_convert.h"
#include "libkpp/error.h"

#include <cstdio>

int main(int argc, char **argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: klp-convert IN.ko OUT.ko Module.symvers\n");
        return 2;
    }
    try {
        auto r = kpp::klp::convert_module(argv[1], argv[2], argv[3]);
        std::printf("klp-convert: %zu livepatch symbols, %zu relocations, %zu sections\n",
                    r.klp_symbols, r.klp_relocations, r.klp_sections.size());
    } catch (const kpp::Error &e) {
        std::fprintf(stderr, "klp-convert: %s\n", e.what());
        return e.status();
    }
    return 0;
}
EOF
	# shellcheck disable=SC2046
	step "building the converter" "$workdir/converter-build.log" \
		g++ -std=c++20 -O1 -I"$repo" -o "$dir/klp-convert" "$dir/main.cpp" \
		"$repo/kpatch-build/module/klp_convert.cpp" "$repo/libkpp/log.cpp" "$repo/libkpp/klp_sections.cpp" \
		"$repo/libkpp/module_name.cpp" \
		"$repo"/libkpp/elf/*.cpp $(pkg-config --cflags --libs libelf) -lfmt
	echo "$dir/klp-convert"
}

# The host-side view of the result: the section the livepatch core applies
# and the symbol it resolves.
check_converted() {
	local ko=$1 sections symbols
	sections=$(readelf -SW "$ko")
	grep -E '\.klp\.rela\.vmlinux\.\.text\.cmdline_proc_show +RELA .* AIo ' <<<"$sections" >/dev/null ||
		die "$ko: no .klp.rela.vmlinux..text.cmdline_proc_show section with flags AIo"
	symbols=$(readelf -sW "$ko")
	grep -F '.klp.sym.vmlinux.saved_command_line,0' <<<"$symbols" | grep -qv ' UND ' ||
		die "$ko: .klp.sym.vmlinux.saved_command_line,0 is not SHN_LIVEPATCH"
	if readelf -rW "$ko" | awk '/^Relocation section/ { klp = ($3 ~ /\.klp\.rela\./) }
			!klp && /\.klp\.sym\./ { bad = 1 } END { exit !bad }'; then
		die "$ko: an ordinary relocation section still uses a .klp.sym symbol"
	fi
}

write_guest_script() {
	cat >"$1" <<EOF
# Guest half of klp_template_smoke.sh.
. /test/lib.sh

lp=$name
EOF
	cat >>"$1" <<'EOF'
orig=$(cat /proc/cmdline)
kpp_info "kernel $(uname -r), cmdline '$orig'"

# Unconverted, the loader cannot resolve the .klp.sym symbol: refused.
if insmod /test/unconverted.ko 2>/dev/null; then
	kpp_fail unconverted-refused "the module loaded without conversion"
	rmmod $lp
else
	kpp_pass unconverted-refused "insmod failed as expected"
fi

if kpp_lp_load $lp /test/$lp.ko; then
	kpp_assert_eq cmdline-patched "$orig kpatchpp_smoke=1" "$(cat /proc/cmdline)"
	kpp_assert_eq vmlinux-object yes \
		"$([ -d /sys/kernel/livepatch/$lp/vmlinux/cmdline_proc_show,1 ] && echo yes || echo no)"
	kpp_assert_contains post-patch-callback "kpp-smoke: post_patch vmlinux" "$(dmesg)"
	kpp_assert_contains replace "patching 1 functions in 1 objects (atomic replace)" "$(dmesg)"
	kpp_lp_disable $lp && kpp_lp_unload $lp
	kpp_assert_contains pre-unpatch-callback "kpp-smoke: pre_unpatch vmlinux" "$(dmesg)"
	kpp_assert_eq cmdline-restored "$orig" "$(cat /proc/cmdline)"
	kpp_assert_eq module-gone no "$(grep -q "^$lp " /proc/modules && echo yes || echo no)"
fi
dmesg | grep -E 'kpp|livepatch' | sed 's/^/KPP-INFO dmesg: /'

kpp_done
EOF
}

main() {
	parse_workdir_args "$@"
	local tree ko conv
	command -v readelf >/dev/null || die "readelf not found (binutils)"
	tree=${KPP_KERNEL_TREE:-$("$here/build-test-kernel.sh" --print-dir)}
	[ -f "$tree/Module.symvers" ] || die "$tree/Module.symvers missing: not a built kernel tree"
	build_output_o "$tree"
	build_module "$tree"
	conv=$(converter)
	ko="$workdir/$name.ko"
	step "converting $name.ko" "$workdir/convert.log" \
		"$conv" "$workdir/module/$name.ko" "$ko" "$tree/Module.symvers"
	cat "$workdir/convert.log" >&2
	check_converted "$ko"
	write_guest_script "$workdir/guest.sh"
	cp "$workdir/module/$name.ko" "$workdir/unconverted.ko"
	"$here/make-initramfs.sh" "$workdir/initramfs.cpio.gz" "$workdir/guest.sh" "$ko" \
		"$workdir/unconverted.ko"
	"$here/run-guest.sh" --kernel "$tree/arch/x86/boot/bzImage" \
		--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" --timeout 180
}

main "$@"

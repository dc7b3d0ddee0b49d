// SPDX-License-Identifier: GPL-2.0
/*
 * Let a patched module be removed and loaded again while the patch stays.
 *
 * The livepatch core applies this module's ".klp.rela.<module>.*"
 * relocations each time <module> loads (klp_module_coming()). On x86_64,
 * Linux 6.1 writes a relocation only over zeroed bytes (the module loader's
 * "Skipping invalid relocation target, existing value is nonzero") and,
 * unlike later kernels (clear_relocate_add(), 6.3), does not zero them
 * again when <module> goes: loading <module> a second time then fails in
 * klp_module_coming() and the module itself is refused. So when the core
 * reverts the patch from a module that is going away (or whose load
 * failed), the same point where later kernels clear them, this zeroes the
 * targets of that module's relocations in this patch module.
 *
 * Other architectures' loaders overwrite the fields, so nothing is needed
 * there.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/elf.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/string.h>

#include "kpatchpp-module-relocs.h"

#ifdef CONFIG_X86_64

#define KPP_KLP_RELA_PREFIX ".klp.rela."

/*
 * text_poke_set() (not exported) through a livepatch relocation against
 * vmlinux, which the module loader resolves when this module loads. It
 * takes text_mutex and writes through a temporary mapping, so it can write
 * this module's read-only text. The name is quoted for the assembler,
 * which would read the comma as an operand separator.
 */
extern void *kpp_text_poke_set(void *addr, int c, size_t len)
	__asm__("\".klp.sym.vmlinux.text_poke_set,0\"");

/* The bytes an x86_64 relocation of @type writes; 0 for none or unknown. */
static size_t kpp_reloc_size(unsigned int type)
{
	switch (type) {
	case R_X86_64_64:
	case R_X86_64_PC64:
		return 8;
	case R_X86_64_32:
	case R_X86_64_32S:
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		return 4;
	default:
		return 0;
	}
}

/* Is @secname ".klp.rela.<@objname>.<section>"? */
static bool kpp_is_klp_rela_of(const char *secname, const char *objname)
{
	size_t plen = strlen(KPP_KLP_RELA_PREFIX), olen = strlen(objname);

	return !strncmp(secname, KPP_KLP_RELA_PREFIX, plen) &&
	       !strncmp(secname + plen, objname, olen) &&
	       secname[plen + olen] == '.';
}

static void kpp_clear_section_relocs(const struct klp_modinfo *info,
				     const Elf_Shdr *relsec)
{
	const Elf_Rela *rela = (const Elf_Rela *)relsec->sh_addr;
	unsigned long base = info->sechdrs[relsec->sh_info].sh_addr;
	size_t i, size;

	for (i = 0; i < relsec->sh_size / sizeof(*rela); i++) {
		unsigned int type = ELF_R_TYPE(rela[i].r_info);

		size = kpp_reloc_size(type);
		if (!size) {
			if (type != R_X86_64_NONE)
				pr_warn("%s: relocation type %u at 0x%llx left as it is; loading the module again will fail\n",
					info->secstrings + relsec->sh_name, type,
					(unsigned long long)rela[i].r_offset);
			continue;
		}
		kpp_text_poke_set((void *)(base + rela[i].r_offset), 0, size);
	}
}

void kpp_module_relocs_gone(struct klp_object *obj)
{
	const struct klp_modinfo *info = THIS_MODULE->klp_info;
	unsigned int i;

	/* A live module: the whole patch is being disabled, nothing reloads. */
	if (!obj->name || !obj->mod || obj->mod->state == MODULE_STATE_LIVE)
		return;
	for (i = 1; i < info->hdr.e_shnum; i++) {
		const Elf_Shdr *shdr = &info->sechdrs[i];

		if ((shdr->sh_flags & SHF_RELA_LIVEPATCH) &&
		    kpp_is_klp_rela_of(info->secstrings + shdr->sh_name,
				       obj->name))
			kpp_clear_section_relocs(info, shdr);
	}
}

#else

void kpp_module_relocs_gone(struct klp_object *obj)
{
}

#endif /* CONFIG_X86_64 */

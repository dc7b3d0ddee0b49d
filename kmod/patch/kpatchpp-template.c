// SPDX-License-Identifier: GPL-2.0
/*
 * The livepatch module around create-diff-object output
 *
 * Linked together with output.o, whose .kpatchpp.* sections describe the
 * patch. At load time this walks those sections, builds the klp_func and
 * klp_object arrays the livepatch core wants and enables the patch.
 *
 * The sections are located through the ELF section headers the module
 * loader keeps for every livepatch module (THIS_MODULE->klp_info): after
 * several objects were merged with `ld -r`, each section is still one
 * (or, should a linker keep them apart, several) section header(s) with the
 * final address and size, so no linker script or marker symbol is needed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/elf.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "kpatchpp-macros.h"
#include "kpatchpp-module-relocs.h"

#ifdef KPP_NO_REPLACE
#define KPP_REPLACE false
#else
#define KPP_REPLACE true
#endif

#define KPP_SEC_FUNCS		".kpatchpp.funcs"
#define KPP_SEC_FORCE		".kpatchpp.force"
#define KPP_SEC_CB_PREFIX	".kpatchpp.callbacks."
#define KPP_KLP_RELA_PREFIX	".klp.rela."

enum kpp_cb_kind {
	KPP_CB_PRE_PATCH,
	KPP_CB_POST_PATCH,
	KPP_CB_PRE_UNPATCH,
	KPP_CB_POST_UNPATCH,
	KPP_CB_NR,
};

static const char * const kpp_cb_names[KPP_CB_NR] = {
	[KPP_CB_PRE_PATCH]	= "pre_patch",
	[KPP_CB_POST_PATCH]	= "post_patch",
	[KPP_CB_PRE_UNPATCH]	= "pre_unpatch",
	[KPP_CB_POST_UNPATCH]	= "post_unpatch",
};

static struct klp_patch *kpp_patch;
static struct klp_object *kpp_objs;
static struct klp_func *kpp_funcs;

/*
 * The patch author's pre_patch and post_unpatch callbacks of each module
 * object (indexed like kpp_objs), which kpp_module_pre_patch and
 * kpp_module_post_unpatch call in their place.
 */
struct kpp_author_callbacks {
	int (*pre_patch)(struct klp_object *obj);
	void (*post_unpatch)(struct klp_object *obj);
};

static struct kpp_author_callbacks *kpp_author_cbs;

/* A run of table entries in one ELF section of this module. */
struct kpp_range {
	void *start;
	size_t count;
};

/*
 * Call @fn for every allocated section named @name, viewing it as an array
 * of @entsize-byte entries. Returns 0, the first error of @fn, or -EINVAL
 * for a section that cannot hold such an array.
 */
static int kpp_walk_sections(const char *name, size_t entsize,
			     int (*fn)(const struct kpp_range *, void *),
			     void *data)
{
	const struct klp_modinfo *info = THIS_MODULE->klp_info;
	unsigned int i;
	int ret;

	for (i = 1; i < info->hdr.e_shnum; i++) {
		const Elf_Shdr *shdr = &info->sechdrs[i];
		struct kpp_range range;

		if (strcmp(info->secstrings + shdr->sh_name, name))
			continue;
		if (!(shdr->sh_flags & SHF_ALLOC) || shdr->sh_type != SHT_PROGBITS ||
		    shdr->sh_size % entsize || shdr->sh_addr % sizeof(long)) {
			pr_err("section %s is malformed (type %u, flags 0x%llx, size %llu)\n",
			       name, shdr->sh_type,
			       (unsigned long long)shdr->sh_flags,
			       (unsigned long long)shdr->sh_size);
			return -EINVAL;
		}
		range.start = (void *)shdr->sh_addr;
		range.count = shdr->sh_size / entsize;
		ret = fn(&range, data);
		if (ret)
			return ret;
	}
	return 0;
}

/* vmlinux is NULL to the livepatch core; create-diff-object may spell it. */
static const char *kpp_objname(const char *name)
{
	if (!name || !strcmp(name, "vmlinux"))
		return NULL;
	return name;
}

static bool kpp_same_obj(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

/*
 * The distinct object names of the patch, in order of first use. Names read
 * from section names are copied (copies[i] owns names[i]); the others point
 * into this module's .kpatchpp.strings.
 */
struct kpp_objnames {
	const char **names;
	char **copies;
	size_t nr;
	size_t max;
};

static struct kpp_objnames kpp_names;

static bool kpp_objnames_has(const struct kpp_objnames *set, const char *name,
			     size_t len)
{
	size_t i;

	for (i = 0; i < set->nr; i++) {
		const char *have = set->names[i];

		if (!name || !have) {
			if (!name && !have)
				return true;
			continue;
		}
		if (!strncmp(have, name, len) && have[len] == '\0')
			return true;
	}
	return false;
}

/* Add @name (@len bytes, not necessarily terminated); copy it if @copy. */
static int kpp_objnames_add(struct kpp_objnames *set, const char *name,
			    size_t len, bool copy)
{
	if (name && (len == 0 || (len == 7 && !strncmp(name, "vmlinux", 7))))
		name = NULL;
	if (name && len >= MODULE_NAME_LEN) {
		pr_err("object name '%.*s...' is too long\n", (int)MODULE_NAME_LEN,
		       name);
		return -EINVAL;
	}
	if (kpp_objnames_has(set, name, len))
		return 0;
	if (WARN_ON(set->nr == set->max))
		return -EOVERFLOW;
	if (name && copy) {
		set->copies[set->nr] = kstrndup(name, len, GFP_KERNEL);
		if (!set->copies[set->nr])
			return -ENOMEM;
		name = set->copies[set->nr];
	}
	set->names[set->nr++] = name;
	return 0;
}

static int kpp_add_objname(struct kpp_objnames *set, const char *name)
{
	return kpp_objnames_add(set, name,
				name ? strnlen(name, MODULE_NAME_LEN) : 0,
				false);
}

static void kpp_objnames_free(struct kpp_objnames *set)
{
	size_t i;

	if (set->copies)
		for (i = 0; i < set->nr; i++)
			kfree(set->copies[i]);
	kfree(set->copies);
	kfree(set->names);
	memset(set, 0, sizeof(*set));
}

static int kpp_count_entries(const struct kpp_range *range, void *data)
{
	*(size_t *)data += range->count;
	return 0;
}

static int kpp_check_funcs(const struct kpp_range *range, void *data)
{
	const struct kpp_patch_func *pf = range->start;
	size_t i;
	int ret;

	for (i = 0; i < range->count; i++) {
		if (!pf[i].new_addr || !pf[i].old_name) {
			pr_err("function entry %zu has no %s\n", i,
			       pf[i].new_addr ? "name" : "address");
			return -EINVAL;
		}
		ret = kpp_add_objname(data, pf[i].objname);
		if (ret)
			return ret;
	}
	return 0;
}

static int kpp_callback_objnames(const struct kpp_range *range, void *data)
{
	const struct kpp_callback *cb = range->start;
	size_t i;
	int ret;

	for (i = 0; i < range->count; i++) {
		ret = kpp_add_objname(data, cb[i].objname);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Relocations against an object's symbols are only applied while that
 * object's klp_object is initialized, so every object with a livepatch
 * relocation section (".klp.rela.<objname>.<section>") needs one, even
 * when no function of it is patched. Returns the number of such sections
 * with @set NULL.
 */
static int kpp_klp_rela_objnames(struct kpp_objnames *set, size_t *count)
{
	const struct klp_modinfo *info = THIS_MODULE->klp_info;
	const size_t plen = strlen(KPP_KLP_RELA_PREFIX);
	unsigned int i;
	int ret;

	for (i = 1; i < info->hdr.e_shnum; i++) {
		const Elf_Shdr *shdr = &info->sechdrs[i];
		const char *secname = info->secstrings + shdr->sh_name;
		const char *dot;

		if (!(shdr->sh_flags & SHF_RELA_LIVEPATCH) ||
		    strncmp(secname, KPP_KLP_RELA_PREFIX, plen))
			continue;
		if (count) {
			(*count)++;
			continue;
		}
		secname += plen;
		dot = strchr(secname, '.');
		if (!dot || dot == secname || dot - secname >= MODULE_NAME_LEN) {
			pr_err("bad livepatch relocation section name %s%s\n",
			       KPP_KLP_RELA_PREFIX, secname);
			return -EINVAL;
		}
		ret = kpp_objnames_add(set, secname, dot - secname, true);
		if (ret)
			return ret;
	}
	return 0;
}

static struct klp_object *kpp_find_obj(const char *name)
{
	struct klp_object *obj;

	name = kpp_objname(name);
	for (obj = kpp_objs; obj->funcs; obj++)
		if (kpp_same_obj(obj->name, name))
			return obj;
	return NULL;
}

struct kpp_fill {
	struct klp_object *obj;
	struct klp_func *next;
};

static int kpp_fill_funcs(const struct kpp_range *range, void *data)
{
	const struct kpp_patch_func *pf = range->start;
	struct kpp_fill *fill = data;
	size_t i;

	for (i = 0; i < range->count; i++) {
		if (!kpp_same_obj(kpp_objname(pf[i].objname), fill->obj->name))
			continue;
		fill->next->old_name = pf[i].old_name;
		fill->next->new_func = (void *)pf[i].new_addr;
		fill->next->old_sympos = pf[i].sympos;
		fill->next++;
	}
	return 0;
}

static int kpp_attach_callbacks(const struct kpp_range *range, void *data)
{
	const struct kpp_callback *cb = range->start;
	enum kpp_cb_kind kind = (uintptr_t)data;
	struct klp_callbacks *cbs;
	struct klp_object *obj;
	void **slot;
	size_t i;

	for (i = 0; i < range->count; i++) {
		obj = kpp_find_obj(cb[i].objname);
		if (WARN_ON(!obj) || !cb[i].fn)
			return -EINVAL;
		cbs = &obj->callbacks;
		switch (kind) {
		case KPP_CB_PRE_PATCH:
			slot = (void **)&cbs->pre_patch;
			break;
		case KPP_CB_POST_PATCH:
			slot = (void **)&cbs->post_patch;
			break;
		case KPP_CB_PRE_UNPATCH:
			slot = (void **)&cbs->pre_unpatch;
			break;
		default:
			slot = (void **)&cbs->post_unpatch;
			break;
		}
		if (*slot) {
			pr_err("more than one %s callback for %s\n",
			       kpp_cb_names[kind],
			       obj->name ? obj->name : "vmlinux");
			return -EINVAL;
		}
		*slot = cb[i].fn;
	}
	return 0;
}

static int kpp_log_force(const struct kpp_range *range, void *data)
{
	void * const *fn = range->start;
	size_t i;

	for (i = 0; i < range->count; i++)
		pr_info("%ps is marked force-unsafe; the livepatch consistency model still checks it\n",
			fn[i]);
	return 0;
}

/* With @pass_kind, @fn gets the callback kind as its data. */
static int kpp_walk_callback_sections(int (*fn)(const struct kpp_range *,
						 void *),
				      void *data, bool pass_kind)
{
	char name[64];
	uintptr_t kind;
	int ret;

	for (kind = 0; kind < KPP_CB_NR; kind++) {
		snprintf(name, sizeof(name), "%s%s", KPP_SEC_CB_PREFIX,
			 kpp_cb_names[kind]);
		ret = kpp_walk_sections(name, sizeof(struct kpp_callback),
					   fn, pass_kind ? (void *)kind : data);
		if (ret)
			return ret;
	}
	return 0;
}

static void kpp_free(void)
{
	kfree(kpp_patch);
	kfree(kpp_funcs);
	kfree(kpp_objs);
	kfree(kpp_author_cbs);
	kpp_objnames_free(&kpp_names);
	kpp_patch = NULL;
	kpp_funcs = NULL;
	kpp_objs = NULL;
	kpp_author_cbs = NULL;
}

/* Collect the object names and allocate the arrays that hold them. */
static int kpp_alloc(size_t *nfuncs)
{
	size_t ncallbacks = 0, nrela = 0;
	int ret;

	*nfuncs = 0;
	ret = kpp_walk_sections(KPP_SEC_FUNCS, sizeof(struct kpp_patch_func),
				   kpp_count_entries, nfuncs);
	if (!ret)
		ret = kpp_walk_callback_sections(kpp_count_entries,
						    &ncallbacks, false);
	if (!ret)
		ret = kpp_klp_rela_objnames(NULL, &nrela);
	if (ret)
		return ret;
	if (!*nfuncs && !ncallbacks) {
		pr_err("nothing to patch: no %s or callback entries\n",
		       KPP_SEC_FUNCS);
		return -EINVAL;
	}

	kpp_names.max = *nfuncs + ncallbacks + nrela;
	kpp_names.names = kcalloc(kpp_names.max, sizeof(*kpp_names.names),
				  GFP_KERNEL);
	kpp_names.copies = kcalloc(kpp_names.max, sizeof(*kpp_names.copies),
				   GFP_KERNEL);
	if (!kpp_names.names || !kpp_names.copies)
		return -ENOMEM;

	ret = kpp_walk_sections(KPP_SEC_FUNCS, sizeof(struct kpp_patch_func),
				   kpp_check_funcs, &kpp_names);
	if (!ret)
		ret = kpp_walk_callback_sections(kpp_callback_objnames,
						    &kpp_names, false);
	if (!ret)
		ret = kpp_klp_rela_objnames(&kpp_names, NULL);
	if (ret)
		return ret;

	/* Each object's klp_func array ends with an empty entry. */
	kpp_objs = kcalloc(kpp_names.nr + 1, sizeof(*kpp_objs), GFP_KERNEL);
	kpp_funcs = kcalloc(*nfuncs + kpp_names.nr, sizeof(*kpp_funcs),
			    GFP_KERNEL);
	kpp_patch = kzalloc(sizeof(*kpp_patch), GFP_KERNEL);
	kpp_author_cbs = kcalloc(kpp_names.nr, sizeof(*kpp_author_cbs),
				 GFP_KERNEL);
	if (!kpp_objs || !kpp_funcs || !kpp_patch || !kpp_author_cbs)
		return -ENOMEM;
	return 0;
}

/*
 * A module object's callbacks: the author's, then, when the module goes
 * away or its patching failed, this patch's relocations for it are undone
 * so that the module can load again (kpatchpp-module-relocs.c).
 */
static int kpp_module_pre_patch(struct klp_object *obj)
{
	struct kpp_author_callbacks *cbs = &kpp_author_cbs[obj - kpp_objs];
	int ret = cbs->pre_patch ? cbs->pre_patch(obj) : 0;

	if (ret)
		kpp_module_relocs_gone(obj);
	return ret;
}

static void kpp_module_post_unpatch(struct klp_object *obj)
{
	struct kpp_author_callbacks *cbs = &kpp_author_cbs[obj - kpp_objs];

	if (cbs->post_unpatch)
		cbs->post_unpatch(obj);
	kpp_module_relocs_gone(obj);
}

static void kpp_wrap_module_callbacks(void)
{
	size_t i;

	for (i = 0; i < kpp_names.nr; i++) {
		struct klp_callbacks *cbs = &kpp_objs[i].callbacks;

		if (!kpp_objs[i].name)
			continue;
		kpp_author_cbs[i].pre_patch = cbs->pre_patch;
		kpp_author_cbs[i].post_unpatch = cbs->post_unpatch;
		cbs->pre_patch = kpp_module_pre_patch;
		cbs->post_unpatch = kpp_module_post_unpatch;
	}
}

static int kpp_build_patch(void)
{
	struct kpp_fill fill;
	struct klp_func *next = kpp_funcs;
	size_t i;
	int ret;

	for (i = 0; i < kpp_names.nr; i++) {
		struct klp_object *obj = &kpp_objs[i];

		obj->name = kpp_names.names[i];
		obj->funcs = next;
		fill.obj = obj;
		fill.next = next;
		ret = kpp_walk_sections(KPP_SEC_FUNCS,
					   sizeof(struct kpp_patch_func),
					   kpp_fill_funcs, &fill);
		if (ret)
			return ret;
		pr_debug("object %s: %td functions\n",
			 obj->name ? obj->name : "vmlinux", fill.next - next);
		next = fill.next + 1;
	}

	ret = kpp_walk_callback_sections(kpp_attach_callbacks, NULL, true);
	if (ret)
		return ret;
	kpp_wrap_module_callbacks();
	ret = kpp_walk_sections(KPP_SEC_FORCE, sizeof(void *),
				   kpp_log_force, NULL);
	if (ret)
		return ret;

	kpp_patch->mod = THIS_MODULE;
	kpp_patch->objs = kpp_objs;
	kpp_patch->replace = KPP_REPLACE;
	return 0;
}

static int __init kpp_init(void)
{
	size_t nfuncs;
	int ret;

	if (!THIS_MODULE->klp_info) {
		pr_err("not loaded as a livepatch module\n");
		return -EINVAL;
	}

	ret = kpp_alloc(&nfuncs);
	if (ret)
		goto err_free;
	ret = kpp_build_patch();
	if (ret)
		goto err_free;
	ret = klp_enable_patch(kpp_patch);
	if (ret) {
		pr_err("klp_enable_patch failed: %d\n", ret);
		goto err_free;
	}
	pr_info("patching %zu functions in %zu objects%s\n", nfuncs,
		kpp_names.nr, KPP_REPLACE ? " (atomic replace)" : "");
	return 0;

err_free:
	kpp_free();
	return ret;
}

/*
 * The livepatch core lets the module go only after the patch was disabled
 * and its kobjects were released, so nothing refers to the arrays anymore.
 */
static void __exit kpp_exit(void)
{
	kpp_free();
}

module_init(kpp_init);
module_exit(kpp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ live patch");
MODULE_INFO(livepatch, "Y");

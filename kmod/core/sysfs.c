// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/kpatch/<patch>/{enabled,functions}
 *
 * enabled: 1 or 0; writing 0 disables the patch (and lets rmmod proceed),
 * writing 1 enables it again. functions: one line per replaced function,
 * "<name> <old address> <new address> <active|inactive>".
 */
#define pr_fmt(fmt) "kpatch: " fmt

#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/sysfs.h>
#include "core.h"

static struct kobject *kpp_root;

static ssize_t enabled_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	struct kpp_core_patch *patch =
		container_of(kobj, struct kpp_core_patch, kobj);

	return sysfs_emit(buf, "%d\n", READ_ONCE(patch->enabled));
}

static ssize_t enabled_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	struct kpp_core_patch *patch =
		container_of(kobj, struct kpp_core_patch, kobj);
	bool enable;
	int ret;

	ret = kstrtobool(buf, &enable);
	if (ret)
		return ret;

	ret = kpp_core_set_enabled(patch, enable);
	return ret ? ret : count;
}

static ssize_t functions_show(struct kobject *kobj, struct kobj_attribute *attr,
			      char *buf)
{
	struct kpp_core_patch *patch =
		container_of(kobj, struct kpp_core_patch, kobj);
	unsigned int i;
	int len = 0;

	mutex_lock(&kpp_mutex);
	for (i = 0; i < patch->nr_funcs; i++) {
		struct kpp_core_func *func = &patch->funcs[i];

		len += sysfs_emit_at(buf, len, "%s 0x%lx 0x%lx %s\n",
				     func->old_name, func->old_addr,
				     func->new_addr,
				     func->active ? "active" : "inactive");
	}
	mutex_unlock(&kpp_mutex);
	return len;
}

static struct kobj_attribute enabled_attr = __ATTR_RW(enabled);
static struct kobj_attribute functions_attr = __ATTR(functions, 0400,
						     functions_show, NULL);

static struct attribute *kpp_patch_attrs[] = {
	&enabled_attr.attr,
	&functions_attr.attr,
	NULL
};
ATTRIBUTE_GROUPS(kpp_patch);

static void kpp_patch_release(struct kobject *kobj)
{
	struct kpp_core_patch *patch =
		container_of(kobj, struct kpp_core_patch, kobj);

	complete(&patch->kobj_released);
}

static struct kobj_type kpp_patch_ktype = {
	.release = kpp_patch_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = kpp_patch_groups,
};

int kpp_sysfs_add_patch(struct kpp_core_patch *patch)
{
	int ret;

	init_completion(&patch->kobj_released);
	ret = kobject_init_and_add(&patch->kobj, &kpp_patch_ktype, kpp_root,
				   "%s", patch->name);
	if (ret) {
		pr_err("%s: cannot create its sysfs directory: %d\n",
		       patch->name, ret);
		kobject_put(&patch->kobj);
		wait_for_completion(&patch->kobj_released);
	}
	return ret;
}

/* Removes the directory; returns once no sysfs handler is running. */
void kpp_sysfs_del_patch(struct kpp_core_patch *patch)
{
	kobject_put(&patch->kobj);
	wait_for_completion(&patch->kobj_released);
}

int kpp_sysfs_init(void)
{
	kpp_root = kobject_create_and_add("kpatch", kernel_kobj);
	return kpp_root ? 0 : -ENOMEM;
}

void kpp_sysfs_exit(void)
{
	kobject_put(kpp_root);
}

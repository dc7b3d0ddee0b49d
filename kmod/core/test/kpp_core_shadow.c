// SPDX-License-Identifier: GPL-2.0
/*
 * kpatch.ko's shadow variables (kpp_shadow_*), checked from a module's
 * init: the klp_shadow_* rules one by one, then two threads racing on the
 * same variables. Loading succeeds only if every check passed; the guest
 * (integration.core) also greps the summary line. It leaves
 * KPP_LEFTOVER_COUNT variables behind on purpose: kpatch.ko must free them
 * when it is unloaded.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include "../kpatchpp-core.h"

#define ID_A		0x10UL
#define ID_B		0x11UL
#define ID_RACE		0x12UL
#define ID_CHURN	0x13UL
#define ID_LEFTOVER	0x14UL
#define KPP_LEFTOVER_COUNT 3
#define NR_OBJS		100
#define RACE_KEYS	16
#define RACE_ROUNDS	20000
#define MAGIC		0x5ad0c0deU

struct payload {
	unsigned int magic;
	unsigned int ctor_arg;
	unsigned long zero[4];
};

static int objs[NR_OBJS];
static unsigned int checks, failures;

#define CHECK(cond, what)						\
	do {								\
		checks++;						\
		if (!(cond)) {						\
			failures++;					\
			pr_err("FAIL %s (line %d)\n", what, __LINE__);	\
		}							\
	} while (0)

static atomic_t ctor_calls = ATOMIC_INIT(0);
static atomic_t dtor_calls = ATOMIC_INIT(0);
static void *last_dtor_obj;

static int ctor(void *obj, void *data, void *arg)
{
	struct payload *p = data;

	atomic_inc(&ctor_calls);
	p->magic = MAGIC;
	p->ctor_arg = arg ? *(unsigned int *)arg : 0;
	return 0;
}

static int failing_ctor(void *obj, void *data, void *arg)
{
	return -ENOSPC;
}

static void dtor(void *obj, void *data)
{
	struct payload *p = data;

	if (p->magic == MAGIC)
		atomic_inc(&dtor_calls);
	last_dtor_obj = obj;
}

static bool all_zero(const unsigned long *v, size_t n)
{
	while (n--)
		if (v[n])
			return false;
	return true;
}

static void check_rules(void)
{
	unsigned int arg = 7;
	struct payload *p, *q;
	int i;

	CHECK(!kpp_shadow_get(&objs[0], ID_A), "get before alloc is NULL");

	p = kpp_shadow_alloc(&objs[0], ID_A, sizeof(*p), GFP_KERNEL, ctor, &arg);
	CHECK(p && p->magic == MAGIC && p->ctor_arg == 7,
	      "alloc runs the ctor with its data");
	CHECK(p && all_zero(p->zero, ARRAY_SIZE(p->zero)),
	      "alloc zeroes what the ctor leaves");
	CHECK(atomic_read(&ctor_calls) == 1, "one ctor call");
	CHECK(kpp_shadow_get(&objs[0], ID_A) == p, "get finds it");

	q = kpp_shadow_alloc(&objs[0], ID_A, sizeof(*q), GFP_KERNEL, ctor, &arg);
	CHECK(!q, "alloc of an existing variable is NULL");
	CHECK(atomic_read(&ctor_calls) == 1, "no ctor call for a duplicate");

	q = kpp_shadow_get_or_alloc(&objs[0], ID_A, sizeof(*q), GFP_KERNEL,
				    ctor, NULL);
	CHECK(q == p, "get_or_alloc returns the existing variable");
	CHECK(atomic_read(&ctor_calls) == 1, "get_or_alloc: no ctor if it exists");

	q = kpp_shadow_get_or_alloc(&objs[0], ID_B, sizeof(*q), GFP_ATOMIC,
				    ctor, NULL);
	CHECK(q && q != p && q->magic == MAGIC && !q->ctor_arg,
	      "get_or_alloc makes another id of the same object");
	CHECK(kpp_shadow_get(&objs[1], ID_A) == NULL,
	      "another object has no variable");

	CHECK(!kpp_shadow_alloc(&objs[1], ID_A, sizeof(*p), GFP_KERNEL,
				failing_ctor, NULL), "a failing ctor gives NULL");
	CHECK(!kpp_shadow_get(&objs[1], ID_A), "nothing stays after a failing ctor");

	kpp_shadow_free(&objs[0], ID_A, dtor);
	CHECK(atomic_read(&dtor_calls) == 1 && last_dtor_obj == &objs[0],
	      "free runs the dtor on the object and its data");
	CHECK(!kpp_shadow_get(&objs[0], ID_A), "get after free is NULL");
	CHECK(kpp_shadow_get(&objs[0], ID_B) == q, "free leaves other ids alone");
	kpp_shadow_free(&objs[0], ID_A, dtor);
	CHECK(atomic_read(&dtor_calls) == 1, "free of a missing variable is a no-op");
	kpp_shadow_free(&objs[0], ID_B, NULL);
	CHECK(atomic_read(&dtor_calls) == 1, "free without a dtor");

	atomic_set(&dtor_calls, 0);
	for (i = 0; i < NR_OBJS; i++) {
		kpp_shadow_alloc(&objs[i], ID_A, sizeof(*p), GFP_KERNEL, ctor, NULL);
		if (i % 10 == 0)
			kpp_shadow_alloc(&objs[i], ID_B, sizeof(*p), GFP_KERNEL,
					 ctor, NULL);
	}
	kpp_shadow_free_all(ID_A, dtor);
	CHECK(atomic_read(&dtor_calls) == NR_OBJS, "free_all calls the dtor for each");
	for (i = 0; i < NR_OBJS; i++)
		if (kpp_shadow_get(&objs[i], ID_A))
			break;
	CHECK(i == NR_OBJS, "free_all frees every variable of its id");
	CHECK(kpp_shadow_get(&objs[50], ID_B), "free_all leaves other ids alone");
	kpp_shadow_free_all(ID_B, NULL);
	CHECK(!kpp_shadow_get(&objs[50], ID_B), "free_all without a dtor");
}

/*
 * Two threads: both get_or_alloc the same keys (each must be made once and
 * both must get the same data), while one attaches and frees other
 * variables that the other reads under RCU; a reader must never see a
 * variable before its ctor ran, nor its memory reused while it looks.
 */
static struct payload *race_seen[2][RACE_KEYS];
static atomic_t race_bad = ATOMIC_INIT(0);
static DECLARE_COMPLETION(race_go);

struct race_arg {
	int who;
	struct completion done;
};

static int race_thread(void *data)
{
	struct race_arg *a = data;
	struct payload *p;
	int r, k;

	wait_for_completion(&race_go);
	for (r = 0; r < RACE_ROUNDS; r++) {
		k = r % RACE_KEYS;
		p = kpp_shadow_get_or_alloc(&objs[k], ID_RACE, sizeof(*p),
					    GFP_KERNEL, ctor, NULL);
		if (!p || p->magic != MAGIC)
			atomic_inc(&race_bad);
		else if (!race_seen[a->who][k])
			race_seen[a->who][k] = p;
		else if (race_seen[a->who][k] != p)
			atomic_inc(&race_bad);

		if (a->who == 0) {
			kpp_shadow_alloc(&objs[RACE_KEYS + k], ID_CHURN,
					 sizeof(*p), GFP_KERNEL, ctor, NULL);
			kpp_shadow_free(&objs[RACE_KEYS + k], ID_CHURN, NULL);
		} else {
			rcu_read_lock();
			p = kpp_shadow_get(&objs[RACE_KEYS + k], ID_CHURN);
			if (p && READ_ONCE(p->magic) != MAGIC)
				atomic_inc(&race_bad);
			rcu_read_unlock();
		}
		if (r % 256 == 0)
			cond_resched();
	}
	complete(&a->done);
	return 0;
}

static void check_races(void)
{
	struct race_arg args[2];
	struct task_struct *t[2];
	int i, k, same = 0;

	atomic_set(&ctor_calls, 0);
	for (i = 0; i < 2; i++) {
		args[i].who = i;
		init_completion(&args[i].done);
		t[i] = kthread_run(race_thread, &args[i], "kpp_shadow_race/%d", i);
		if (IS_ERR(t[i])) {
			CHECK(false, "start the race threads");
			/* let the threads started so far finish */
			complete_all(&race_go);
			while (i--)
				wait_for_completion(&args[i].done);
			return;
		}
	}
	complete_all(&race_go);
	for (i = 0; i < 2; i++)
		wait_for_completion(&args[i].done);

	for (k = 0; k < RACE_KEYS; k++)
		same += race_seen[0][k] && race_seen[0][k] == race_seen[1][k];
	CHECK(!atomic_read(&race_bad), "racing threads saw only whole variables");
	CHECK(same == RACE_KEYS, "racing get_or_alloc agree on each variable");
	/* each racing key once, and every churn alloc (freed each time) */
	CHECK(atomic_read(&ctor_calls) == RACE_KEYS + RACE_ROUNDS,
	      "one ctor call per variable made");
	kpp_shadow_free_all(ID_RACE, NULL);
	kpp_shadow_free_all(ID_CHURN, NULL);
}

static int __init kpp_core_shadow_init(void)
{
	int i;

	check_rules();
	check_races();
	for (i = 0; i < KPP_LEFTOVER_COUNT; i++)
		kpp_shadow_alloc(&objs[i], ID_LEFTOVER, 16, GFP_KERNEL, NULL, NULL);
	if (failures) {
		pr_err("%u of %u checks failed\n", failures, checks);
		kpp_shadow_free_all(ID_LEFTOVER, NULL);
		return -EINVAL;
	}
	pr_info("all %u checks passed; %d variables left for kpatch.ko to free\n",
		checks, KPP_LEFTOVER_COUNT);
	return 0;
}

static void __exit kpp_core_shadow_exit(void)
{
}

module_init(kpp_core_shadow_init);
module_exit(kpp_core_shadow_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ core: shadow variable checks");

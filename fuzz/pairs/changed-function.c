/* One function changes a constant; a static helper called with a constant
 * becomes a .constprop/.isra clone; a string literal moves. */
#include "kernel-like.h"

int limit = 3;

static __attribute__((noinline)) int scale(int x, int by)
{
	return x * by + limit;
}

int compute(int x)
{
#ifdef KPP_PATCHED
	printk("compute %d (patched)\n", x);
	return scale(x, 7) + 1;
#else
	printk("compute %d\n", x);
	return scale(x, 5) + 1;
#endif
}

int unchanged(int x)
{
	return scale(x, 5) - compute(x);
}

/* Called with one constant only: GCC clones it (double_it.constprop.0). */
static __attribute__((noinline)) int double_it(int x, int by)
{
	return x * by;
}

int twice(int x)
{
#ifdef KPP_PATCHED
	return double_it(x, 2) + double_it(x + 1, 2);
#else
	return double_it(x, 2) + double_it(x - 1, 2);
#endif
}

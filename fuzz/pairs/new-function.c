/* The patched version adds a global function, a static one it calls and new
 * data; an existing function starts calling them. */
#include "kernel-like.h"

int counter;

#ifdef KPP_PATCHED
static int history[4];

static __attribute__((noinline)) void remember(int v)
{
	history[counter & 3] = v;
}

int new_api(int v)
{
	remember(v);
	return history[(v + 1) & 3];
}
#endif

int bump(int v)
{
	counter += v;
#ifdef KPP_PATCHED
	return new_api(counter);
#else
	return counter;
#endif
}

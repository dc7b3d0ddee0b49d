/* GCC moves the unlikely path of a function to foo.cold; a change in the
 * cold part changes the function. */
#include "kernel-like.h"

extern void report(const char *what, int v) __attribute__((cold));

int checked_div(int a, int b)
{
	if (unlikely(b == 0)) {
#ifdef KPP_PATCHED
		report("division by zero (patched)", a);
		report("again", b);
#else
		report("division by zero", a);
#endif
		return 0;
	}
	return a / b;
}

int checked_mod(int a, int b)
{
	if (unlikely(b == 0)) {
		report("modulo by zero", a);
		return 0;
	}
	return a % b;
}

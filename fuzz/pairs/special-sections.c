/* A function with an entry in each kernel table (bug, jump label, exception,
 * alternatives, __mcount_loc) changes; its neighbour with the same tables
 * does not. */
#include "kernel-like.h"

struct static_key fast_key;
int table[16];

int checked_read(const int *p, int i)
{
	BUG_ON(i > 15);
	ALTERNATIVE_NOP_OR_LFENCE();
	if (static_branch(&fast_key))
		return table[i];
#ifdef KPP_PATCHED
	return load_or_zero(p) + table[i] * 2;
#else
	return load_or_zero(p) + table[i];
#endif
}

int other_read(const int *p, int i)
{
	BUG_ON(i < 0);
	ALTERNATIVE_NOP_OR_LFENCE();
	if (static_branch(&fast_key))
		return -table[i];
	return load_or_zero(p) - table[i];
}

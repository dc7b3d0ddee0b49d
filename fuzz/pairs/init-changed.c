/* An __init function changes: refused, init code has already run. */
#include "kernel-like.h"

int configured;

int __init setup_thing(void)
{
#ifdef KPP_PATCHED
	configured = 2;
#else
	configured = 1;
#endif
	return 0;
}

int use_thing(void)
{
	return configured;
}

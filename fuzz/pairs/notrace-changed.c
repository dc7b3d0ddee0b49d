/* A function without an ftrace hook changes: refused, nothing can redirect
 * the running kernel to the new version. */
#include "kernel-like.h"

notrace int hidden(int x)
{
#ifdef KPP_PATCHED
	return x * 3;
#else
	return x * 2;
#endif
}

int visible(int x)
{
	return hidden(x) + 1;
}

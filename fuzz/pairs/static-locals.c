/* Function-scope statics of one name in several functions (GCC numbers them
 * count.0, count.1 ...), once-only warnings (__warned, __func__) and a
 * unique-id object; one of the functions changes and the numbering moves. */
#include "kernel-like.h"

#define __PASTE2(a, b) a##b
#define __PASTE(a, b) __PASTE2(a, b)
#define UNIQUE_ID(prefix) __PASTE(__UNIQUE_ID_##prefix, __COUNTER__)

static const char UNIQUE_ID(tag)[] __attribute__((used, section(".modinfo"))) = "author=kpp";

#ifdef KPP_PATCHED
int first(int x)
{
	static int count;
	WARN_ONCE(x < 0, "first: negative");
	return count += x;
}
#endif

int second(int x)
{
	static int count;
	WARN_ONCE(x > 1000, "second: large");
#ifdef KPP_PATCHED
	return count += 2 * x;
#else
	return count += x;
#endif
}

int third(int x)
{
	static int count;
	WARN_ONCE(x == 7, "third: seven");
	return count -= x;
}

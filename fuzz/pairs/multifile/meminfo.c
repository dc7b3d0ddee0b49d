/* One of two files linked into one object (ld -r), each with a FILE symbol
 * and statics of the same names: the parent's FILE group of each local is
 * found by the file it comes from. */
static int shown;

static __attribute__((noinline)) int show(int v)
{
	return shown += v;
}

int meminfo_show(int v)
{
#ifdef KPP_PATCHED
	return show(v) + 100;
#else
	return show(v);
#endif
}

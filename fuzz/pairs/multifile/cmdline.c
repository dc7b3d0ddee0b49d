/* The other file of the multifile pair: same static names, unchanged. */
static int shown;

static __attribute__((noinline)) int show(int v)
{
	return shown -= v;
}

int cmdline_show(int v)
{
	return show(v);
}

/* Initialised data changes: refused, the kernel holds its own copy. */
int settings[4] = {
	1, 2, 3,
#ifdef KPP_PATCHED
	5,
#else
	4,
#endif
};

int setting(int i)
{
	return settings[i & 3];
}

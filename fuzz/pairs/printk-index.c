/* printk's index: a .printk_index pointer per call site to a pi_entry whose
 * first field is the format; the patched function passes a new format. */
struct pi_entry {
	const char *fmt;
	const char *func;
	const char *file;
	unsigned int line;
	const char *level;
	const char *subsys_fmt_prefix;
};
extern int _printk(const char *fmt, ...);

#define printk_indexed(fmt, ...)                                                       \
	({                                                                             \
		static const struct pi_entry _entry                                   \
			__attribute__((used)) = { fmt, __func__, __FILE__, __LINE__,  \
						  "", "" };                             \
		static const struct pi_entry *_entry_ptr                              \
			__attribute__((used, section(".printk_index"))) = &_entry;    \
		_printk(fmt, ##__VA_ARGS__);                                           \
	})

void say(int v)
{
#ifdef KPP_PATCHED
	printk_indexed("say: value %d, patched\n", v);
#else
	printk_indexed("say: value %d\n", v);
#endif
}

void shout(int v)
{
	printk_indexed("shout: %d\n", v);
}

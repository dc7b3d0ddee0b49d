/* Kernel-style special sections for the fuzz pairs, written out by hand so
 * the pairs need no kernel headers: each macro emits one table entry laid out
 * as the struct size the fuzz_diff run assumes (fuzz/fuzz_diff.cpp:
 * BUG_STRUCT_SIZE=12, JUMP_STRUCT_SIZE=24, ALT_STRUCT_SIZE=13,
 * EX_STRUCT_SIZE=12), each entry starting with a relocation into the code. */
#ifndef KPP_FUZZ_KERNEL_LIKE_H
#define KPP_FUZZ_KERNEL_LIKE_H

#define __init __attribute__((section(".init.text"), cold, noinline))
#define notrace __attribute__((no_instrument_function))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* struct bug_entry with relative pointers: s32 addr, s32 file, u16 line, u16 flags. */
#define BUG_ON(cond)                                                                   \
	do {                                                                           \
		if (unlikely(cond))                                                    \
			asm volatile("1: ud2\n"                                        \
				     ".pushsection __bug_table, \"aw\"\n"              \
				     "2: .long 1b - 2b\n"                              \
				     ".long %c0 - 2b\n"                                \
				     ".word %c1, 0\n"                                  \
				     ".popsection" ::"i"(__FILE__), "i"(__LINE__));    \
	} while (0)

/* struct jump_entry, absolute: u64 code, u64 target, u64 key. */
struct static_key {
	int enabled;
};
static inline __attribute__((always_inline)) int static_branch(struct static_key *key)
{
	asm goto("1: .byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
		 ".pushsection __jump_table, \"aw\"\n"
		 ".balign 8\n"
		 ".quad 1b, %l[yes], %c0\n"
		 ".popsection" ::"i"(key)::yes);
	return 0;
yes:
	return 1;
}

/* struct exception_table_entry: s32 insn, s32 fixup, s32 data. */
static inline __attribute__((always_inline)) int load_or_zero(const int *p)
{
	int v;
	asm volatile("1: movl (%1), %0\n"
		     "2:\n"
		     ".pushsection .fixup, \"ax\"\n"
		     "3: xorl %0, %0\n"
		     "jmp 2b\n"
		     ".popsection\n"
		     ".pushsection __ex_table, \"a\"\n"
		     ".long 1b - ., 3b - ., 0\n"
		     ".popsection"
		     : "=r"(v)
		     : "r"(p));
	return v;
}

/* struct alt_instr: s32 instr, s32 replacement, u16 cpuid, u8 len, u8 replen, u8 padlen. */
#define ALTERNATIVE_NOP_OR_LFENCE()                                                    \
	asm volatile("1: .byte 0x0f, 0x1f, 0x00\n"                                     \
		     "2:\n"                                                            \
		     ".pushsection .altinstr_replacement, \"ax\"\n"                    \
		     "3: lfence\n"                                                     \
		     "4:\n"                                                            \
		     ".popsection\n"                                                   \
		     ".pushsection .altinstructions, \"a\"\n"                          \
		     ".long 1b - ., 3b - .\n"                                          \
		     ".word 3*32+18\n"                                                 \
		     ".byte 2b - 1b, 4b - 3b, 0\n"                                     \
		     ".popsection")

/* Once-only warnings keep their flag in a per-call-site static. */
extern int printk(const char *fmt, ...);
#define WARN_ONCE(cond, fmt)                                                           \
	({                                                                             \
		static int __warned;                                                   \
		int __c = !!(cond);                                                    \
		if (unlikely(__c && !__warned)) {                                      \
			__warned = 1;                                                  \
			printk(fmt " in %s\n", __func__);                              \
		}                                                                      \
		__c;                                                                   \
	})

#endif

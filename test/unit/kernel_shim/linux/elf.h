/* The kernel's R_AARCH64_* and R_X86_64_* numbers: glibc's elf.h has them. */
#include <elf.h>

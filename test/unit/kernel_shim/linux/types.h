/* The kernel types kmod/core's pure C files use, for building them into the
 * unit tests (this folder is first on their include path). */
#ifndef KPP_SHIM_LINUX_TYPES_H
#define KPP_SHIM_LINUX_TYPES_H
#include_next <linux/types.h> /* the uapi __u32 ... others include it for */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
#endif

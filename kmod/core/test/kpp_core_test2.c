// SPDX-License-Identifier: GPL-2.0
/* Second copy of the /proc/cmdline test patch, stacked on the first. */
#define KPP_TEST_MSG "kpatchpp-core: second patch"
#include "kpp_core_test.c"

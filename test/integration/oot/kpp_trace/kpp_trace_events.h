/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tracepoint of the out-of-tree test module kpp_trace: one event per
 * computed value, so the guest can see whether the function holding it runs
 * its tracepoint.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kpp_trace

#if !defined(_KPP_TRACE_EVENTS_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KPP_TRACE_EVENTS_H

#include <linux/tracepoint.h>

TRACE_EVENT(kpp_trace_compute,
	TP_PROTO(int input),
	TP_ARGS(input),
	TP_STRUCT__entry(__field(int, input)),
	TP_fast_assign(__entry->input = input;),
	TP_printk("input=%d", __entry->input)
);

#endif /* _KPP_TRACE_EVENTS_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE kpp_trace_events
#include <trace/define_trace.h>

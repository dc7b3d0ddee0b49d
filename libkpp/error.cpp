#include "libkpp/error.h"

namespace kpp {

std::string_view refusal_kind_name(RefusalKind kind) {
    switch (kind) {
    case RefusalKind::DataChange:
        return "data_change";
    case RefusalKind::LayoutChange:
        return "layout_change";
    case RefusalKind::InitCode:
        return "init_code";
    case RefusalKind::ExitCode:
        return "exit_code";
    case RefusalKind::NoFtraceHook:
        return "no_ftrace_hook";
    case RefusalKind::SharedSection:
        return "shared_section";
    case RefusalKind::UnmatchedStatic:
        return "unmatched_static";
    case RefusalKind::MissingSymbol:
        return "missing_symbol";
    case RefusalKind::FunctionPointer:
        return "function_pointer";
    case RefusalKind::Other:
        break;
    }
    return "other";
}

} // namespace kpp

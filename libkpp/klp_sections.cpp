#include "libkpp/klp_sections.h"

#include <algorithm>
#include <iterator>

namespace kpp::klp {

// When Linux 6.1 applies a .klp.rela section decides which sections may hold
// livepatch relocations:
//
//  - .klp.rela.vmlinux.*: load_module() -> apply_relocations()
//    (kernel/module/main.c) hands every SHF_RELA_LIVEPATCH section to
//    klp_apply_section_relocs(..., objname = NULL), which applies exactly the
//    vmlinux ones (kernel/livepatch/core.c; klp_init_object_loaded() repeats
//    this only for modules). That happens while the patch module is still
//    MODULE_STATE_UNFORMED, before anything reads the module's tables:
//    post_relocation() (sort_extable, module_finalize(): alternatives,
//    paravirt, retpolines, returns, .smp_locks, ORC), dynamic_debug_setup(),
//    ftrace_module_init() (__mcount_loc), complete_formation()
//    (module_bug_finalize(): __bug_table), prepare_coming_module() (the
//    MODULE_STATE_COMING notifiers: jump_label_add_module() for __jump_table,
//    static_call_add_module() for .static_call_sites) and do_init_module()
//    (.init_array, the template reading .kpatchpp.*). So a vmlinux symbol may
//    be used from any section the loader relocates.
//  - .klp.rela.<module>.*: klp_module_coming() -> klp_init_object_loaded() ->
//    klp_apply_object_relocs(), only when that module loads, which may be long
//    after the patch module's load-time tables were read (or, for .init.*,
//    freed).
//
// Either way apply_relocations() skips a relocation section whose target
// lacks SHF_ALLOC; the loader clears that flag for the sections below.
bool alloc_cleared_by_loader(std::string_view name) {
    // setup_load_info(): "Track but don't keep modinfo and version sections";
    // layout_and_allocate(): per-cpu data is copied out by percpu_modcopy().
    return name == ".modinfo" || name == "__versions" || name == ".data..percpu";
}

// Sections the module loader or the patch template read while the patch
// module loads, before the livepatch core applies module-targeted
// relocations: a relocation against a module symbol there would be seen
// unapplied.
bool read_before_module_klp_relocs(std::string_view name) {
    static const std::string_view exact[] = {
        "__jump_table",
        ".static_call_sites",
        ".altinstructions",
        ".altinstr_replacement",
        ".parainstructions",
        "__mcount_loc",
        ".smp_locks",
        ".retpoline_sites",
        ".return_sites",
        ".ibt_endbr_seal",
        ".orc_unwind",
        ".orc_unwind_ip",
        "__ex_table",
        "__bug_table",
        ".init_array",
        "__param",
        "__dyndbg",
        "__dyndbg_classes",
        ".gnu.linkonce.this_module",
        "__tracepoints_ptrs",
        "__tracepoints",
        "__tracepoints_strings",
        "_ftrace_events",
        "_ftrace_eval_map",
        "__bpf_raw_tp_map",
        "__kprobe_blacklist",
        "_error_injection_whitelist",
    };
    if (std::find(std::begin(exact), std::end(exact), name) != std::end(exact))
        return true;
    return name.starts_with(".kpatchpp.") || name.starts_with("__ksymtab") ||
           name.starts_with("__kcrctab") || name.starts_with(".init.");
}

} // namespace kpp::klp

// Arch::for_object(): the supported machines.
#include "create-diff-object/arch.h"
#include "libkpp/error.h"

#include <fmt/format.h>

#include <array>
#include <utility>

namespace kpp::diff {
namespace {

struct Supported {
    uint16_t machine;
    const Arch &(*arch)();
};

constexpr std::array kSupported = {
    Supported{EM_X86_64, x86_64_arch},
    Supported{EM_AARCH64, aarch64_arch},
};

// Machines a kernel object may come from, named as Linux's ARCH names them.
constexpr std::array<std::pair<uint16_t, const char *>, 13> kMachineNames = {{
    {EM_X86_64, "x86_64"},
    {EM_AARCH64, "aarch64"},
    {EM_386, "i386"},
    {EM_ARM, "arm"},
    {EM_PPC, "powerpc"},
    {EM_PPC64, "ppc64"},
    {EM_S390, "s390"},
    {EM_RISCV, "riscv"},
    {EM_LOONGARCH, "loongarch"},
    {EM_MIPS, "mips"},
    {EM_SPARCV9, "sparc64"},
    {EM_PARISC, "parisc"},
    {EM_SH, "sh"},
}};

} // namespace

std::string machine_name(uint16_t machine) {
    for (const auto &[em, name] : kMachineNames)
        if (em == machine)
            return name;
    return fmt::format("e_machine {}", machine);
}

const Arch &Arch::for_object(const elf::Object &obj) {
    std::string supported;
    for (const Supported &s : kSupported) {
        if (s.machine == obj.machine)
            return s.arch();
        supported += (supported.empty() ? "" : ", ") + machine_name(s.machine);
    }
    throw Error("{}: machine {} is not supported (supported: {})", obj.path,
                machine_name(obj.machine), supported);
}

} // namespace kpp::diff

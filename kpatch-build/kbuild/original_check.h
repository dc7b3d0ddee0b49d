// Whether the original objects kpatch-build compiled reproduce the code the
// kernel runs (compiler_check.h: needed when the compiler is another
// distribution build of the kernel's compiler release).
//
// Every function of an original object must be in its parent (the -dbg
// vmlinux or module: by name, a local one in its file's STT_FILE group),
// with the same size and the same bytes outside the fields its relocations
// fill (the linker wrote addresses there). Other inlining leaves a function
// out of the parent or changes its callers' sizes; other register use or
// frame layout changes the bytes. A function that reproduces was compiled
// as the kernel's was, and with every function of the file reproduced,
// what the diff assumes of the unchanged code (which callees clobber which
// registers, where a function was inlined) holds for the running kernel.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kpp::build {

struct NotReproduced {
    std::string function;
    std::string why; // "1234 bytes in vmlinux, 1240 compiled", "not in vmlinux", ...
};

// The functions of `object` that `parent` (a linked vmlinux or a relocatable
// module) does not hold as compiled; `parent_name` ("vmlinux", "ext4") is
// for the messages. Throws kpp::Error naming the file on malformed input.
std::vector<NotReproduced> functions_not_reproduced(const std::filesystem::path &object,
                                                    const std::filesystem::path &parent,
                                                    const std::string &parent_name);

// One error line for an object whose originals do not reproduce the kernel:
// the object, up to `shown` functions and why, both compiler texts and what
// to do.
std::string not_reproduced_message(const std::string &object,
                                   const std::vector<NotReproduced> &functions,
                                   const std::string &compiler_text, const std::string &kernel_text,
                                   size_t shown = 4);

} // namespace kpp::build

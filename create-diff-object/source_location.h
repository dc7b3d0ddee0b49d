// The kernel's helpers that take a source location (__FILE__, __LINE__,
// __func__): their line arguments change whenever an edit earlier in the
// file moves the call, without any change in behaviour. Each Arch finds the
// line immediates in its own instructions; this says which calls take them.
#pragma once

#include "libkpp/elf/object.h"

#include <cstdint>

namespace kpp::diff {

// Whether a relocation of `text` at an offset in [begin, end] names a
// helper taking a line number, or the __func__ string passed beside one.
bool refers_to_source_location(const elf::Section &text, uint64_t begin, uint64_t end);

} // namespace kpp::diff

// Helpers shared by the libFuzzer targets: a private scratch folder (libelf
// reads files, not buffers) and the one way a target reports a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kpp::fuzz {

// A folder of this process's own, removed at exit; on /dev/shm when it exists
// so the file round trip each input costs stays in memory.
const std::string &scratch_dir();

// Writes size bytes at path, replacing the file. Aborts if it cannot: a
// fuzzer that silently tests nothing is worse than one that stops.
void write_file(const std::string &path, const uint8_t *data, size_t size);

// A finding that is not a sanitizer report (an uncaught foreign exception, a
// broken round trip): prints what and aborts, so libFuzzer keeps the input.
[[noreturn]] void finding(const std::string &what);

} // namespace kpp::fuzz

// A patched .c or .S file that this kernel's configuration does not compile.
//
// If no compile unit is built from a source file, a patch to it can still
// matter: another file may #include it (lib/decompress_*.c, generated
// tables). When no file of the tree names it in an #include line, nothing
// this configuration compiles reads it, and the patch to it changes
// nothing: kpatch-build says so at once, instead of starting the header
// scan (a distribution kernel) or rebuilding every object (a built tree).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kpp::build {

// Files under `tree` (.c, .h, .S; hidden directories skipped) with an
// #include line naming `source`'s file name ("joydev.c"), relative to the tree.
std::vector<std::string> files_including(const std::filesystem::path &tree,
                                         const std::string &source);

// files_including() for several sources in one walk of the tree: every
// source (a key, even when nothing includes it) with the files naming its
// file name in an #include line.
std::map<std::string, std::vector<std::string>>
files_including_any(const std::filesystem::path &tree, const std::vector<std::string> &sources);

// The kbuild line that decides whether `source` is built, from its directory's
// Makefile or Kbuild, continuation lines joined: "obj-$(CONFIG_INPUT_JOYDEV)
// += joydev.o"; "" when none names its object.
std::string kbuild_rule_for(const std::filesystem::path &tree, const std::string &source);

// The first CONFIG_ symbol in a kbuild line ("CONFIG_INPUT_JOYDEV"), or "".
std::string config_symbol_of(const std::string &rule);

// nullopt if some file includes `source` (the caller must find its users);
// otherwise the line saying that this configuration does not compile it,
// with the kbuild rule and the config symbol's value from `config_text`.
std::optional<std::string> uncompiled_source_reason(const std::filesystem::path &tree,
                                                    const std::string &source,
                                                    const std::string &config_text);

// The line of uncompiled_source_reason() for a source already known to be
// compiled by no unit and included by no file.
std::string not_compiled_reason(const std::filesystem::path &tree, const std::string &source,
                                const std::string &config_text);

} // namespace kpp::build

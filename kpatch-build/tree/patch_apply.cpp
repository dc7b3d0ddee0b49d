#include "kpatch-build/tree/patch_apply.h"

#include "kpatch-build/util/command.h"
#include "libkpp/error.h"

#include <sstream>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

std::vector<std::string> patch_command(const fs::path &patch, const fs::path &dir, bool dry_run) {
    std::vector<std::string> argv = {
        "patch", "-p1",        "--batch", "--no-backup-if-mismatch",   "--reject-file=-",
        "-d",    dir.string(), "-i",      fs::absolute(patch).string()};
    if (dry_run)
        argv.push_back("--dry-run");
    return argv;
}

void copy_touched_files(const std::vector<TouchedFile> &touched, const fs::path &root,
                        const fs::path &scratch) {
    fs::remove_all(scratch);
    fs::create_directories(scratch);
    for (const auto &file : touched) {
        if (!fs::exists(root / file.path))
            continue;
        fs::create_directories((scratch / file.path).parent_path());
        fs::copy_file(root / file.path, scratch / file.path);
    }
}

} // namespace

std::string describe_patch_failure(std::string_view patch_output) {
    std::istringstream in{std::string(patch_output)};
    std::string line, file, failures;
    while (std::getline(in, line)) {
        for (std::string_view prefix : {"checking file ", "patching file "})
            if (starts_with(line, prefix))
                file = line.substr(prefix.size());
        if (starts_with(line, "Hunk #") && line.find("FAILED") != std::string::npos) {
            if (!failures.empty())
                failures += "; ";
            std::string hunk = line.substr(0, line.find_last_not_of(". ") + 1);
            hunk[0] = 'h';
            failures += fmt::format("{}: {}", file, hunk);
        } else if (line.find("can't find file to patch") != std::string::npos ||
                   line.find("No file to patch") != std::string::npos) {
            failures += (failures.empty() ? "" : "; ") + std::string("a file to patch is missing");
        } else if (line.find("Reversed (or previously applied) patch detected") !=
                   std::string::npos) {
            failures += (failures.empty() ? "" : "; ") + file +
                        ": already applied (reversed or previously applied patch)";
        }
    }
    return failures;
}

void check_patches_apply(const std::vector<fs::path> &patches,
                         const std::vector<TouchedFile> &touched, const fs::path &root,
                         const fs::path &scratch) {
    copy_touched_files(touched, root, scratch);
    for (const auto &patch : patches) {
        std::string output;
        if (run_capturing(patch_command(patch, scratch, true), output) != 0) {
            std::string why = describe_patch_failure(output);
            throw Error("patch {} does not apply to {}: {}", patch.string(), root.string(),
                        why.empty() ? "\n" + last_lines(output, 10)
                                    : why + " (make the patch against this tree's sources)");
        }
        if (&patch != &patches.back())
            capture_output(patch_command(patch, scratch, false));
    }
}

void apply_patches(const std::vector<fs::path> &patches, const fs::path &root,
                   const fs::path &log) {
    for (const auto &patch : patches)
        run_logged(patch_command(patch, root, false), log);
}

} // namespace kpp::build

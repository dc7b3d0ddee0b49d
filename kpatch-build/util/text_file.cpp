#include "kpatch-build/util/text_file.h"

#include "libkpp/error.h"

#include <fstream>
#include <sstream>

namespace kpp::build {
namespace fs = std::filesystem;

std::string read_text_file_or_empty(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string read_text_file(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot read {}", path.string());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_text_file_atomically(const fs::path &path, const std::string &text) {
    fs::path temporary = path;
    temporary += ".kpatch-build-tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out.flush())
            throw Error("cannot write {}", temporary.string());
    }
    fs::rename(temporary, path);
}

} // namespace kpp::build

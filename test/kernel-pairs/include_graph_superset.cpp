// The include graph (kpatch-build/kbuild/include_graph.h) must never miss a
// reader: on the built test kernel, every (object, file) pair that kbuild's
// own dependency files (.cmd, written by the preprocessor) record must be
// among the graph's candidates for that file.
//   include_graph_superset TREE
// Prints the pairs checked and how many candidates the graph added; exit 1
// with the first missed pairs if any.
#include "kpatch-build/kbuild/include_graph.h"
#include "kpatch-build/kbuild/kbuild_cmd.h"
#include "kpatch-build/tree/tree_lock.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace kpp::build;

namespace {

// Every tree file some compile unit's .cmd file lists.
std::set<std::string> recorded_files(const fs::path &tree) {
    std::set<std::string> files;
    for (const auto &entry : fs::recursive_directory_iterator(tree)) {
        std::string name = entry.path().filename().string();
        if (!name.starts_with(".") || !name.ends_with(".o.cmd"))
            continue;
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        for (const auto &dep : parse_kbuild_command(text.str()).deps)
            if (!dep.starts_with("/") && !dep.starts_with("include/config/"))
                files.insert(fs::path(dep).lexically_normal().string());
    }
    return files;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        fmt::print(stderr, "usage: include_graph_superset TREE\n");
        return 2;
    }
    fs::path tree = argv[1];
    TreeLock lock(tree);
    KbuildIndex index = KbuildIndex::scan(tree);
    std::vector<std::string> objects = index.all_objects();
    IncludeGraph graph = IncludeGraph::scan(tree, objects, {});
    size_t pairs = 0, candidates = 0, missed = 0;
    std::set<std::string> files = recorded_files(tree);
    for (const auto &file : files) {
        std::vector<std::string> readers = index.objects_using(file);
        std::vector<std::string> possible = graph.objects_possibly_reading(file);
        pairs += readers.size();
        candidates += possible.size();
        for (const auto &object : readers)
            if (!std::binary_search(possible.begin(), possible.end(), object) && missed++ < 20)
                fmt::print("MISSED {} reads {}\n", object, file);
    }
    fmt::print("include graph: {} objects, {} files, {} recorded (object, file) pairs, {} "
               "candidates, {} missed\n",
               objects.size(), files.size(), pairs, candidates, missed);
    // A tree with no recorded dependencies would pass vacuously.
    if (objects.size() < 100 || pairs < 10000) {
        fmt::print("FAIL: {} is not a built kernel tree\n", tree.string());
        return 1;
    }
    return missed == 0 ? 0 : 1;
}

#include "kpatch-build/kbuild/object_parents.h"

#include "kpatch-build/module/module_name.h"
#include "kpatch-build/util/command.h"
#include "kpatch-build/util/text_file.h"
#include "libkpp/error.h"

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::istringstream in{std::string(text)};
    std::string word;
    while (in >> word)
        words.push_back(word);
    return words;
}

Parent module_parent(const fs::path &ko) {
    if (!fs::is_regular_file(ko))
        throw Error("module {} not found: the tree must be built with its modules", ko.string());
    return {kernel_module_name(ko.stem().string()), ko};
}

} // namespace

std::vector<std::string> parse_mod_file(std::string_view text) {
    return split_words(text);
}

std::vector<std::string> archive_members(const fs::path &archive) {
    return split_words(capture_output({"ar", "t", archive.string()}));
}

std::vector<std::string> parse_modules_order(std::string_view text) {
    std::vector<std::string> modules;
    for (auto &line : split_words(text)) {
        fs::path path(line.starts_with("kernel/") ? line.substr(7) : line);
        if (path.extension() == ".ko" || path.extension() == ".o")
            path.replace_extension();
        modules.push_back(path.string());
    }
    return modules;
}

ParentIndex ParentIndex::scan(const fs::path &root, const fs::path &vmlinux) {
    ParentIndex index;
    index.root_ = root;
    index.vmlinux_ = vmlinux;
    if (fs::exists(root / "vmlinux.a")) {
        // `ar t` names thin-archive members relative to our cwd.
        index.vmlinux_objects_.emplace();
        for (const auto &member : archive_members(fs::absolute(root / "vmlinux.a")))
            index.vmlinux_objects_->insert(fs::absolute(member)
                                               .lexically_normal()
                                               .lexically_relative(fs::absolute(root))
                                               .string());
    }
    fs::path order = root / "modules.order";
    if (!fs::exists(order))
        return index; // a kernel without modules: everything is in vmlinux
    for (const auto &module : parse_modules_order(read_text_file(order))) {
        fs::path mod_file = root / (module + ".mod");
        if (!fs::exists(mod_file))
            throw Error("{} lists {} but {} is missing; is the tree fully built?", order.string(),
                        module, mod_file.string());
        for (const auto &object : parse_mod_file(read_text_file(mod_file)))
            index.module_of_object_[object] = module;
    }
    return index;
}

ParentIndex ParentIndex::single_module(const fs::path &module_ko) {
    ParentIndex index;
    index.only_module_ = module_ko;
    return index;
}

ParentIndex ParentIndex::from_lookup(Lookup lookup) {
    ParentIndex index;
    index.lookup_ = std::move(lookup);
    return index;
}

bool ParentIndex::is_linked(const std::string &object) const {
    if (lookup_)
        return lookup_(object).has_value();
    if (!only_module_.empty() || !vmlinux_objects_)
        return true;
    return vmlinux_objects_->contains(object) || module_of_object_.contains(object);
}

Parent ParentIndex::parent_of(const std::string &object) const {
    if (lookup_) {
        if (auto parent = lookup_(object))
            return *parent;
        throw Error("{} is not linked into vmlinux or any module of this kernel", object);
    }
    if (!only_module_.empty())
        return module_parent(only_module_);
    auto it = module_of_object_.find(object);
    if (it == module_of_object_.end())
        return {"vmlinux", vmlinux_};
    return module_parent(root_ / (it->second + ".ko"));
}

} // namespace kpp::build

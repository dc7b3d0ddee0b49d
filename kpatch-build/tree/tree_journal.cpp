#include "kpatch-build/tree/tree_journal.h"

#include "kpatch-build/util/run_marker.h"
#include "libkpp/error.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <unistd.h>

namespace kpp::build {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kFormat = 1;
constexpr const char *kSuffix = ".journal";
constexpr const char *kTemporarySuffix = ".journal-new";

[[noreturn]] void fail(std::string_view what, const fs::path &path) {
    throw Error("cannot {} {}: {}", what, path.string(), std::strerror(errno));
}

void write_all(int fd, const std::string &text, const fs::path &path) {
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("write", path);
        done += static_cast<size_t>(n);
    }
}

void sync_dir(const fs::path &dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        fail("open", dir);
    int result = ::fsync(fd);
    ::close(fd);
    if (result != 0)
        fail("sync", dir);
}

// FNV-1a: stable across builds and machines, unlike std::hash.
uint64_t path_hash(const std::string &text) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

json time_json(const struct timespec &t) {
    return json::array({t.tv_sec, t.tv_nsec});
}

struct timespec time_from(const json &value) {
    return {value.at(0).get<time_t>(), value.at(1).get<long>()};
}

json header_json(const JournalHeader &header) {
    return {{"kpatch-build-tree-journal", kFormat},
            {"tree", header.tree.string()},
            {"inode", header.inode},
            {"birth_ns", header.birth_ns},
            {"pid", header.pid},
            {"created_ns", header.created_ns},
            {"run", header.run_id},
            {"backup_dir", header.backup_dir.string()},
            {"temporaries_before", header.temporaries_before}};
}

JournalHeader header_from(const json &value) {
    if (value.value("kpatch-build-tree-journal", 0) != kFormat)
        throw Error("not a kpatch-build tree journal of format {}", kFormat);
    JournalHeader header;
    header.tree = value.at("tree").get<std::string>();
    header.inode = value.at("inode").get<uint64_t>();
    header.birth_ns = value.at("birth_ns").get<int64_t>();
    header.pid = value.at("pid").get<pid_t>();
    header.created_ns = value.at("created_ns").get<int64_t>();
    header.run_id = value.at("run").get<std::string>();
    header.backup_dir = value.at("backup_dir").get<std::string>();
    header.temporaries_before = value.at("temporaries_before").get<std::vector<std::string>>();
    return header;
}

json entry_json(const JournalEntry &entry) {
    return {{"path", entry.relative.string()},
            {"existed", entry.existed},
            {"mode", entry.mode},
            {"size", entry.size},
            {"atime", time_json(entry.atime)},
            {"mtime", time_json(entry.mtime)},
            {"backup", entry.backup.string()},
            {"created_dir", entry.created_dir.string()}};
}

JournalEntry entry_from(const json &value) {
    JournalEntry entry;
    entry.relative = value.at("path").get<std::string>();
    entry.existed = value.at("existed").get<bool>();
    entry.mode = value.at("mode").get<mode_t>();
    entry.size = value.at("size").get<uint64_t>();
    entry.atime = time_from(value.at("atime"));
    entry.mtime = time_from(value.at("mtime"));
    entry.backup = value.at("backup").get<std::string>();
    entry.created_dir = value.at("created_dir").get<std::string>();
    return entry;
}

struct DirectoryIdentity {
    uint64_t inode = 0;
    int64_t birth_ns = 0;
};

DirectoryIdentity identity_of(const fs::path &dir) {
    struct statx st {};
    if (::statx(AT_FDCWD, dir.c_str(), 0, STATX_INO | STATX_BTIME, &st) != 0)
        fail("stat", dir);
    DirectoryIdentity identity{st.stx_ino, 0};
    if (st.stx_mask & STATX_BTIME)
        identity.birth_ns = st.stx_btime.tv_sec * 1'000'000'000LL + st.stx_btime.tv_nsec;
    return identity;
}

void identify(JournalHeader &header) {
    const DirectoryIdentity identity = identity_of(header.tree);
    static std::atomic<int64_t> last_ns{0};
    int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    // Two guards of one run made within a clock tick still sort in order.
    int64_t previous = last_ns.load();
    while (!last_ns.compare_exchange_weak(previous, std::max(now, previous + 1)))
        ;
    header.inode = identity.inode;
    header.birth_ns = identity.birth_ns;
    header.pid = ::getpid();
    header.created_ns = std::max(now, previous + 1);
    header.run_id = this_run_id();
}

} // namespace

fs::path default_journals_dir() {
    if (const char *dir = std::getenv("KPP_STATE_DIR"); dir && *dir)
        return fs::path(dir) / "tree-journals";
    if (const char *xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg)
        return fs::path(xdg) / "kpatchpp/tree-journals";
    const char *home = std::getenv("HOME");
    if (!home || !*home)
        throw Error("neither KPP_STATE_DIR nor HOME is set: nowhere to keep the journal that "
                    "lets a later run restore the kernel tree after a crash");
    return fs::path(home) / ".local/state/kpatchpp/tree-journals";
}

fs::path journal_dir_of(const fs::path &root, const fs::path &journals_dir) {
    std::string canonical = fs::weakly_canonical(root).string();
    std::string readable = canonical.substr(1);
    for (char &c : readable)
        if (c == '/')
            c = '_';
    if (readable.size() > 80)
        readable = readable.substr(readable.size() - 80);
    return journals_dir / fmt::format("{}-{:016x}", readable, path_hash(canonical));
}

TreeJournal::TreeJournal(JournalHeader header, const fs::path &journals_dir) {
    identify(header);
    const fs::path &root = header.tree;
    const fs::path dir = journal_dir_of(root, journals_dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw Error("cannot create {} for the journal of the tree {}: {}", dir.string(),
                    root.string(), ec.message());
    const std::string name = fmt::format("{}-{}", header.created_ns, header.pid);
    file_ = dir / (name + kSuffix);
    const fs::path temporary = dir / (name + kTemporarySuffix);
    fd_ = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0)
        fail("create", temporary);
    write_all(fd_, header_json(header).dump() + "\n", temporary);
    if (::fsync(fd_) != 0)
        fail("sync", temporary);
    if (::rename(temporary.c_str(), file_.c_str()) != 0)
        fail("rename", temporary);
    sync_dir(dir);
}

TreeJournal::~TreeJournal() {
    if (fd_ >= 0)
        ::close(fd_);
}

void TreeJournal::append(const std::vector<JournalEntry> &entries) {
    if (entries.empty())
        return;
    std::string text;
    for (const auto &entry : entries)
        text += entry_json(entry).dump() + "\n";
    write_all(fd_, text, file_);
    if (::fdatasync(fd_) != 0)
        fail("sync", file_);
}

void TreeJournal::remove() {
    if (fd_ < 0)
        return;
    ::close(fd_);
    fd_ = -1;
    if (::unlink(file_.c_str()) != 0 && errno != ENOENT)
        fail("remove", file_);
    std::error_code ec;
    fs::remove(file_.parent_path(), ec); // only when no other guard's journal is there
}

void sync_backups(const std::vector<fs::path> &files, const fs::path &backup_dir) {
    std::set<fs::path> dirs;
    for (const auto &file : files) {
        int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            fail("open", file);
        int result = ::fdatasync(fd);
        ::close(fd);
        if (result != 0)
            fail("sync", file);
        // Up to backup_dir's parent, or the root for a backup elsewhere.
        for (fs::path dir = file.parent_path(); dirs.insert(dir).second; dir = dir.parent_path())
            if (dir == backup_dir.parent_path() || dir == dir.parent_path())
                break;
    }
    for (const auto &dir : dirs)
        sync_dir(dir);
}

std::vector<fs::path> leftover_journals(const fs::path &root, const fs::path &journals_dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto &item : fs::directory_iterator(journal_dir_of(root, journals_dir), ec)) {
        const std::string name = item.path().filename().string();
        if (name.ends_with(kSuffix))
            files.push_back(item.path());
        else if (name.ends_with(kTemporarySuffix))
            fs::remove(item.path());
    }
    return files;
}

bool same_tree(const JournalHeader &header, const fs::path &root) {
    std::error_code ec;
    if (!fs::is_directory(root, ec))
        return false;
    const DirectoryIdentity identity = identity_of(root);
    // Where the filesystem keeps no birth time, the inode alone decides.
    return identity.inode == header.inode &&
           (identity.birth_ns == 0 || header.birth_ns == 0 || identity.birth_ns == header.birth_ns);
}

JournalContents read_journal(const fs::path &file) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
        fail("read", file);
    std::vector<std::string> lines;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        lines.push_back(text.substr(start, end == std::string::npos ? end : end - start));
        if (end == std::string::npos)
            break; // a last line without its newline: torn
        start = end + 1;
    }
    const bool last_complete = !text.empty() && text.back() == '\n';
    JournalContents contents{file, {}, {}};
    for (size_t i = 0; i < lines.size(); i++) {
        const bool last = i + 1 == lines.size();
        try {
            json value = json::parse(lines[i]);
            if (last && !last_complete && i > 0)
                break;
            if (i == 0)
                contents.header = header_from(value);
            else
                contents.entries.push_back(entry_from(value));
        } catch (const std::exception &e) {
            // A kill in the middle of an append: that line's file was not
            // touched yet. Damage anywhere else is not explained by a kill.
            if (last && i > 0)
                break;
            throw Error("the kpatch-build tree journal {} is damaged at line {} ({}); check the "
                        "tree it names, then delete the file",
                        file.string(), i + 1, e.what());
        }
    }
    if (lines.empty())
        throw Error("the kpatch-build tree journal {} is empty; delete it", file.string());
    return contents;
}

} // namespace kpp::build

#include "kpatch-build/util/command.h"

#include "kpatch-build/util/interrupt.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0)
            close(fd_);
    }
    FileDescriptor(const FileDescriptor &) = delete;
    FileDescriptor &operator=(const FileDescriptor &) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

// Spawns argv in its own process group (so the signal handler can stop the
// whole make job tree at once) with stdout/stderr on output_fd.
pid_t spawn(const std::vector<std::string> &argv, int output_fd) {
    std::vector<char *> args;
    for (const auto &arg : argv)
        args.push_back(const_cast<char *>(arg.c_str()));
    args.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, output_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output_fd, STDERR_FILENO);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGHUP);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);

    pid_t pid = 0;
    int err = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (err != 0)
        throw CommandFailed("cannot run {}: {}", argv[0], std::strerror(err));
    return pid;
}

// make reaps its jobs before dying of SIGTERM, but a job that ignored it must
// not go on writing into the tree while it is being restored: kill what is
// left of the group and wait (bounded) until it is gone.
void stop_group(pid_t group) {
    kill(-group, SIGKILL);
    for (int tries = 0; tries < 100 && kill(-group, 0) == 0; ++tries)
        usleep(50 * 1000);
}

// Waits for the child; if a signal arrived before the handler knew the child's
// group, stops the group here.
int wait_for(pid_t pid) {
    interrupt::set_child_group(pid);
    if (interrupt::requested())
        kill(-pid, SIGTERM);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            interrupt::set_child_group(0);
            throw CommandFailed("waitpid: {}", std::strerror(errno));
        }
    }
    interrupt::set_child_group(0);
    if (interrupt::requested())
        stop_group(pid);
    return status;
}

std::string describe_status(int status) {
    if (WIFEXITED(status))
        return fmt::format("exit status {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return fmt::format("killed by {}", strsignal(WTERMSIG(status)));
    return "unknown status";
}

std::string read_from(const fs::path &path, std::streamoff offset) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(offset);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

std::string shell_quote_join(const std::vector<std::string> &argv) {
    std::string joined;
    for (const auto &arg : argv) {
        if (!joined.empty())
            joined += ' ';
        bool plain = !arg.empty() && arg.find_first_of(" \t\"'$\\`*?;&|<>()") == std::string::npos;
        joined += plain ? arg : "'" + arg + "'";
    }
    return joined;
}

namespace {

std::vector<std::string_view> non_empty_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        std::string_view line = text.substr(pos, end == std::string_view::npos ? end : end - pos);
        if (!line.empty())
            lines.push_back(line);
        if (end == std::string_view::npos)
            break;
        pos = end + 1;
    }
    return lines;
}

bool names_an_error(std::string_view line) {
    return line.find("error:") != std::string_view::npos ||
           line.find("Error:") != std::string_view::npos ||
           line.find("*** ") != std::string_view::npos;
}

std::string quoted_block(const std::vector<std::string_view> &lines) {
    std::string result;
    for (auto line : lines) {
        result += "  | ";
        result += line;
        result += '\n';
    }
    return result;
}

} // namespace

std::string last_lines(std::string_view text, size_t count) {
    auto lines = non_empty_lines(text);
    size_t first = lines.size() > count ? lines.size() - count : 0;
    return quoted_block({lines.begin() + static_cast<std::ptrdiff_t>(first), lines.end()});
}

std::string relevant_lines(std::string_view text, size_t errors, size_t tail) {
    auto lines = non_empty_lines(text);
    size_t tail_start = lines.size() > tail ? lines.size() - tail : 0;
    std::vector<std::string_view> chosen;
    for (size_t i = 0; i < tail_start && chosen.size() < errors; ++i)
        if (names_an_error(lines[i]))
            chosen.push_back(lines[i]);
    if (!chosen.empty() && tail_start > 0)
        chosen.push_back("...");
    chosen.insert(chosen.end(), lines.begin() + static_cast<std::ptrdiff_t>(tail_start),
                  lines.end());
    return quoted_block(chosen);
}

std::string abbreviated_command(const std::vector<std::string> &argv, size_t max_args) {
    if (argv.size() <= max_args)
        return shell_quote_join(argv);
    std::vector<std::string> head(argv.begin(),
                                  argv.begin() + static_cast<std::ptrdiff_t>(max_args));
    return fmt::format("{} ... ({} more arguments)", shell_quote_join(head),
                       argv.size() - max_args);
}

void run_logged(const std::vector<std::string> &argv, const fs::path &log) {
    interrupt::throw_if_requested();
    {
        std::ofstream header(log, std::ios::app);
        header << "+ " << shell_quote_join(argv) << '\n';
    }
    std::streamoff start = fs::exists(log) ? static_cast<std::streamoff>(fs::file_size(log)) : 0;
    FileDescriptor fd(open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (fd.get() < 0)
        throw Error("cannot open log {}: {}", log.string(), std::strerror(errno));
    int status = wait_for(spawn(argv, fd.get()));
    interrupt::throw_if_requested();
    if (status != 0)
        throw CommandFailed("{} failed ({}); from its output:\n{}full log: {}",
                            abbreviated_command(argv), describe_status(status),
                            relevant_lines(read_from(log, start), 10, 12), log.string());
}

int run_capturing(const std::vector<std::string> &argv, std::string &output) {
    interrupt::throw_if_requested();
    char name[] = "/tmp/kpatch-build-capture.XXXXXX";
    FileDescriptor fd(mkstemp(name));
    if (fd.get() < 0)
        throw Error("cannot create a temporary file: {}", std::strerror(errno));
    unlink(name);
    int status = wait_for(spawn(argv, fd.get()));
    interrupt::throw_if_requested();
    lseek(fd.get(), 0, SEEK_SET);
    output.clear();
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd.get(), buffer, sizeof buffer)) > 0)
        output.append(buffer, static_cast<size_t>(n));
    return status;
}

std::string capture_output(const std::vector<std::string> &argv) {
    std::string output;
    int status = run_capturing(argv, output);
    if (status != 0)
        throw CommandFailed("{} failed ({}):\n{}", abbreviated_command(argv),
                            describe_status(status), last_lines(output, 10));
    return output;
}

} // namespace kpp::build

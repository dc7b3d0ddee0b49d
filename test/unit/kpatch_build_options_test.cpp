// Command line, module names and the compiler check.
#include "kpatch-build/kbuild/compiler_check.h"
#include "kpatch-build/module/module_name.h"
#include "kpatch-build/options.h"
#include "libkpp/error.h"

#include <gtest/gtest.h>

using namespace kpp::build;

TEST(KpatchBuildName, DefaultFromFirstPatch) {
    EXPECT_EQ(default_module_name("/tmp/patches/meminfo-fix.patch"), "livepatch-meminfo-fix");
    EXPECT_EQ(default_module_name("fix v2+cve.diff"), "livepatch-fix_v2_cve");
    EXPECT_EQ(default_module_name("a.b.patch"), "livepatch-a_b");
}

TEST(KpatchBuildName, DefaultIsCutToTheKernelLimit) {
    std::string name = default_module_name(std::string(100, 'x') + ".patch");
    EXPECT_EQ(name.size(), kMaxModuleNameLength);
    EXPECT_NO_THROW(validate_module_name(name));
}

TEST(KpatchBuildName, Validation) {
    EXPECT_NO_THROW(validate_module_name("livepatch-a_b1"));
    EXPECT_THROW(validate_module_name(""), kpp::Error);
    EXPECT_THROW(validate_module_name("with.dot"), kpp::Error);
    EXPECT_THROW(validate_module_name("with/slash"), kpp::Error);
    EXPECT_THROW(validate_module_name(std::string(56, 'a')), kpp::Error);
    EXPECT_EQ(kpp::kernel_module_name("livepatch-a-b"), "livepatch_a_b");
    EXPECT_EQ(kpp::symvers_module_name("fs/binfmt_misc"), "binfmt_misc");
    EXPECT_EQ(kpp::symvers_module_name("/home/u/mod/kpp-provider"), "kpp_provider");
    EXPECT_EQ(kpp::symvers_module_name("vmlinux"), "vmlinux");
}

TEST(KpatchBuildOptions, ParsesEverything) {
    auto cl =
        parse_command_line({"-s", "/src", "-j", "3", "-t", "bzImage", "-n", "lp", "-o", "/out",
                            "-R", "-d", "--skip-compiler-check", "a.patch", "b.patch"});
    ASSERT_EQ(cl.action, Action::Build);
    const Options &o = cl.options;
    EXPECT_EQ(o.source_dir, "/src");
    EXPECT_EQ(o.jobs, 3u);
    EXPECT_EQ(o.targets, std::vector<std::string>{"bzImage"});
    EXPECT_EQ(o.name, "lp");
    EXPECT_EQ(o.output_dir, "/out");
    EXPECT_TRUE(o.non_replace);
    EXPECT_TRUE(o.debug);
    EXPECT_TRUE(o.skip_compiler_check);
    EXPECT_FALSE(o.skip_cleanup);
    EXPECT_EQ(o.patches, (std::vector<std::string>{"a.patch", "b.patch"}));
}

TEST(KpatchBuildOptions, Defaults) {
    auto cl = parse_command_line({"--sourcedir", "/src", "dir/fix-1.patch"});
    EXPECT_EQ(cl.options.name, "livepatch-fix-1");
    EXPECT_EQ(cl.options.output_dir, ".");
    EXPECT_GE(cl.options.jobs, 1u);
}

TEST(KpatchBuildOptions, Errors) {
    EXPECT_THROW(parse_command_line({"-s", "/src"}), kpp::Error); // no patch
    EXPECT_THROW(parse_command_line({"-s", "/s", "-a", "6.1.0-1-amd64", "x.patch"}), kpp::Error);
    EXPECT_THROW(parse_command_line({"-c", "/s/.config", "x.patch"}), kpp::Error); // -c needs -s
    EXPECT_THROW(parse_command_line({"-s", "/s", "-j", "0", "x.patch"}), kpp::Error);
    EXPECT_THROW(parse_command_line({"-s", "/s", "-j", "many", "x.patch"}), kpp::Error);
    EXPECT_THROW(parse_command_line({"-s", "/s", "--bogus", "x.patch"}), kpp::Error);
    EXPECT_THROW(parse_command_line({"-s", "/s", "-n", "bad.name", "x.patch"}), kpp::Error);
    EXPECT_THROW(parse_command_line({"-s", "/s", "--oot-module", "m.ko", "x.patch"}), kpp::Error);
    EXPECT_THROW(
        parse_command_line({"-s", "/s", "--oot-module", "m.o", "--oot-module-src", "d", "x.patch"}),
        kpp::Error);
}

TEST(KpatchBuildOptions, HelpAndVersionNeedNothingElse) {
    EXPECT_EQ(parse_command_line({"--help"}).action, Action::ShowHelp);
    EXPECT_NE(parse_command_line({"--help"}).text.find("--sourcedir"), std::string::npos);
    EXPECT_EQ(parse_command_line({"--version"}).action, Action::ShowVersion);
}

TEST(KpatchBuildCompiler, ReadsConfigVersion) {
    auto v =
        config_compiler_version("CONFIG_X=y\nCONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian) 12.2.0\"\n");
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, "gcc-12 (Debian) 12.2.0");
    EXPECT_FALSE(config_compiler_version("CONFIG_X=y\n"));
}

TEST(KpatchBuildCompiler, TheVeryTextIsTheSameCompiler) {
    auto verdict =
        judge_compiler("gcc (Debian 12.2.0-14) 12.2.0", "gcc (Debian 12.2.0-14) 12.2.0", "");
    EXPECT_EQ(verdict.match, CompilerMatch::Same);
    EXPECT_EQ(verdict.warning, "");
}

// Debian's arm64 6.1 was built natively by gcc-12 12.2.0-14+deb12u1;
// bookworm's cross compiler is 12.2.0-14cross1, built from 12.2.0-14.
TEST(KpatchBuildCompiler, CrossCompilerOfTheSameBuildIsAcceptedWithAWarning) {
    setenv("CC", "aarch64-linux-gnu-gcc-12", 1);
    auto verdict =
        judge_compiler("gcc-12 (Debian 12.2.0-14) 12.2.0",
                       "aarch64-linux-gnu-gcc-12 (Debian 12.2.0-14) 12.2.0", "aarch64-linux-gnu-");
    EXPECT_EQ(verdict.match, CompilerMatch::OtherTarget);
    EXPECT_EQ(verdict.warning, "compiling with 'aarch64-linux-gnu-gcc-12 (Debian 12.2.0-14) "
                               "12.2.0' for the kernel's 'gcc-12 (Debian 12.2.0-14) 12.2.0': the "
                               "same compiler release and build, for another host");
    // The prefix counts only for a cross build.
    EXPECT_THROW(judge_compiler("gcc-12 (Debian 12.2.0-14) 12.2.0",
                                "aarch64-linux-gnu-gcc-12 (Debian 12.2.0-14) 12.2.0", ""),
                 kpp::Error);
    unsetenv("CC");
}

TEST(KpatchBuildCompiler, AnotherDistributionRevisionIsAcceptedOnlyToBeVerified) {
    auto verdict =
        judge_compiler("gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0",
                       "aarch64-linux-gnu-gcc-12 (Debian 12.2.0-14) 12.2.0", "aarch64-linux-gnu-");
    EXPECT_EQ(verdict.match, CompilerMatch::OtherRevision);
    EXPECT_EQ(verdict.warning,
              "compiling with 'aarch64-linux-gnu-gcc-12 (Debian 12.2.0-14) 12.2.0' for the "
              "kernel's 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0': the same release 12.2.0 in "
              "another distribution build, whose patches may change code generation; each "
              "original object must reproduce the kernel's code");
    // Red Hat's text: the release is the number outside the parentheses.
    EXPECT_EQ(judge_compiler("gcc (GCC) 13.2.1 20231011 (Red Hat 13.2.1-4)",
                             "gcc (GCC) 13.2.1 20231205 (Red Hat 13.2.1-6)", "")
                  .match,
              CompilerMatch::OtherRevision);
}

TEST(KpatchBuildCompiler, AnotherReleaseOrCompilerIsRefusedSayingWhatToDo) {
    setenv("CC", "gcc", 1);
    try {
        judge_compiler("gcc-12 (Debian 12.2.0-14) 12.2.0", "gcc-12 (Debian 12.3.0-1) 12.3.0", "");
        FAIL() << "no error";
    } catch (const kpp::Error &e) {
        EXPECT_STREQ(e.what(), "compiler mismatch: the kernel was built with 'gcc-12 (Debian "
                               "12.2.0-14) 12.2.0' but gcc is 'gcc-12 (Debian 12.3.0-1) 12.3.0' "
                               "(another release); use that compiler (CC=...), or "
                               "--skip-compiler-check if you have checked that its code is the "
                               "kernel's");
    }
    try {
        judge_compiler("gcc-12 (Debian 12.2.0-14) 12.2.0", "gcc (Debian 12.2.0-14) 12.2.0", "");
        FAIL() << "no error";
    } catch (const kpp::Error &e) {
        EXPECT_NE(std::string(e.what()).find("(another compiler)"), std::string::npos);
    }
    EXPECT_THROW(judge_compiler("Debian clang version 14.0.6", "gcc (Debian 12.2.0-14) 12.2.0", ""),
                 kpp::Error);
    EXPECT_THROW(judge_compiler("gcc 11.1", "gcc 12.2", ""), kpp::Error);
    unsetenv("CC");
}

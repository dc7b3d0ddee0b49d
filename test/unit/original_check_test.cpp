// kpatch-build/kbuild/original_check: whether a compiled original object is
// the code of its parent, on objects linked into a small stand-in vmlinux.
#include "kpatch-build/kbuild/original_check.h"
#include "testing/compile.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using kpp::build::functions_not_reproduced;
using kpp::build::not_reproduced_message;
using kpp::build::NotReproduced;
using kpp::testing::TempDir;

const std::vector<std::string> kFlags = {"-O2", "-fno-pic", "-ffunction-sections", "-Wall"};

// Each file has its own static helper (a local of the same name in two
// FILE groups) and a global that calls it (a relocation the link fills).
std::string file_source(const std::string &global, int factor) {
    return "static __attribute__((noinline)) int helper(int x) { return x * " +
           std::to_string(factor) + "; }\nint " + global + "(int x) { return helper(x) + 1; }\n";
}

class OriginalCheck : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::path a = compile("kernel", "a", file_source("fa", 3));
        fs::path b = compile("kernel", "b", file_source("fb", 5));
        vmlinux_ = dir_ / "vmlinux";
        auto r = kpp::testing::run({"gcc", "-nostdlib", "-static", "-no-pie", "-Wl,-e,fa", "-o",
                                    vmlinux_.string(), a.string(), b.string()});
        ASSERT_TRUE(r.exited && r.status == 0) << r.err;
    }

    fs::path compile(const std::string &subdir, const std::string &name, const std::string &source,
                     const std::vector<std::string> &extra = {}) {
        return kpp::testing::compile(dir_, subdir, name, source, extra, &kFlags);
    }

    std::vector<NotReproduced> check(const fs::path &object) {
        return functions_not_reproduced(object, vmlinux_, "vmlinux");
    }

    TempDir dir_;
    fs::path vmlinux_;
};

TEST_F(OriginalCheck, TheSameCompilationIsTheKernelsCodeLocalsByTheirFile) {
    // b.c's helper (x * 5) is not a.c's: each is found in its own file group.
    EXPECT_TRUE(check(compile("orig", "a", file_source("fa", 3))).empty());
    EXPECT_TRUE(check(compile("orig", "b", file_source("fb", 5))).empty());
}

TEST_F(OriginalCheck, OtherCodeOfTheSameSizeIsNamedWithWhereItDiffers) {
    // x * 5 as a.c's helper: b.c's helper has exactly these bytes, but it
    // is another file's.
    auto differing = check(compile("orig", "a", file_source("fa", 5)));
    ASSERT_EQ(differing.size(), 1u);
    EXPECT_EQ(differing[0].function, "helper");
    EXPECT_EQ(differing[0].why.rfind("the bytes differ at +0x", 0), 0u) << differing[0].why;
}

TEST_F(OriginalCheck, OtherFrameLayoutOrInliningChangesTheSize) {
    auto differing = check(compile("orig", "a", file_source("fa", 3), {"-fno-omit-frame-pointer"}));
    ASSERT_FALSE(differing.empty());
    EXPECT_NE(differing[0].why.find(" bytes in vmlinux, "), std::string::npos) << differing[0].why;
}

TEST_F(OriginalCheck, AFunctionTheKernelDoesNotHaveIsNamed) {
    auto differing =
        check(compile("orig", "a", file_source("fa", 3) + "int extra(void) { return 1; }\n"));
    ASSERT_EQ(differing.size(), 1u);
    EXPECT_EQ(differing[0].function, "extra");
    EXPECT_EQ(differing[0].why, "not in vmlinux");
}

TEST(OriginalCheckMessage, NamesTheObjectFunctionsBothCompilersAndWhatToDo) {
    std::vector<NotReproduced> functions = {{"f1", "2380 bytes in vmlinux, 2372 compiled"},
                                            {"f2", "not in vmlinux"},
                                            {"f3", "the bytes differ at +0x8"}};
    EXPECT_EQ(not_reproduced_message("fs/proc/meminfo.o", functions,
                                     "aarch64-linux-gnu-gcc-12 (Debian 12.2.0-14) 12.2.0",
                                     "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0", 2),
              "fs/proc/meminfo.o: the original object compiled with 'aarch64-linux-gnu-gcc-12 "
              "(Debian 12.2.0-14) 12.2.0' is not the kernel's code, built with 'gcc-12 (Debian "
              "12.2.0-14+deb12u1) 12.2.0' (f1: 2380 bytes in vmlinux, 2372 compiled; f2: not in "
              "vmlinux; 1 more); a patch built on it could miss code the kernel runs: use the "
              "kernel's compiler, or --skip-compiler-check to build anyway");
}

} // namespace

// The whole kpatch-build run, stage by stage.
#pragma once

#include "kpatch-build/options.h"
#include "libkpp/error.h"

namespace kpp::build {

// The patched objects are equivalent to the originals: nothing to patch.
class NoChange : public Error {
  public:
    using Error::Error;
    ExitStatus status() const override { return kExitNoChange; }
};

// Builds OUT/NAME.ko. Throws kpp::Refusal (exit 1), NoChange (exit 3),
// Interrupted, or kpp::Error (exit 2); the kernel tree is restored first in
// every case.
void run_kpatch_build(const Options &options);

} // namespace kpp::build

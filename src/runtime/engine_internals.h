#pragma once

// The runtime inside an EmbeddedEngine, for the library's own tests and the server, which
// need more than the public API shows (status details, rounds on a manual clock).

#include "dengine/embedded_engine.h"
#include "runtime/raft_runtime.h"

namespace dengine::runtime {

RaftRuntime& runtime_of(EmbeddedEngine& engine);

}  // namespace dengine::runtime

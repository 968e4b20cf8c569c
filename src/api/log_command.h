#pragma once

// The engine's own commands that the API layer proposes beside the client's (member records,
// alarms): through the log, as every replicated change.

#include <chrono>

#include "dengine/embedded_engine.h"
#include "dengine/status.h"
#include "kv/kv_command.h"

namespace dengine::api {

// Proposes `command` and waits until this member applied it: its outcome, or kTimedOut (the
// command may still apply later).
Status propose_and_wait(EmbeddedEngine& engine, const kv::KvCommand& command,
                        std::chrono::milliseconds timeout);

// Proposes `command` and does not wait for it.
void propose_and_forget(EmbeddedEngine& engine, const kv::KvCommand& command);

}  // namespace dengine::api

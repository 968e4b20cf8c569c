#include "api/log_command.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kv/command_codec.h"
#include "runtime/engine_internals.h"

namespace dengine::api {

Status propose_and_wait(EmbeddedEngine& engine, const kv::KvCommand& command,
                        std::chrono::milliseconds timeout) {
  Result<std::string> encoded = kv::encode_command(command);
  if (!encoded) return encoded.status();
  // The completion may come after a timeout: what it writes to is shared with it.
  struct Outcome {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<Result<ApplyResult>> result;
  };
  auto outcome = std::make_shared<Outcome>();
  runtime::runtime_of(engine).propose(std::move(*encoded), [outcome](Result<ApplyResult> result) {
    std::lock_guard lock(outcome->mutex);
    outcome->result.emplace(std::move(result));
    outcome->done.notify_all();
  });
  std::unique_lock lock(outcome->mutex);
  if (!outcome->done.wait_for(lock, timeout, [&] { return outcome->result.has_value(); })) {
    return Status::timed_out("the change did not apply within " + std::to_string(timeout.count()) +
                             " ms");
  }
  if (!*outcome->result) return outcome->result->status();
  return (*outcome->result)->status;
}

void propose_and_forget(EmbeddedEngine& engine, const kv::KvCommand& command) {
  Result<std::string> encoded = kv::encode_command(command);
  if (!encoded) return;
  runtime::runtime_of(engine).propose(std::move(*encoded), [](Result<ApplyResult> /*result*/) {});
}

}  // namespace dengine::api

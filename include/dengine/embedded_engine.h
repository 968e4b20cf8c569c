#pragma once

// EmbeddedEngine: a Raft node inside the caller's process (DESIGN §1, §4).
//
//   auto started = dengine::EmbeddedEngine::start("./data");
//   if (!started) { /* started.status().message() says why */ }
//   dengine::EmbeddedEngine& engine = **started;
//   engine.wait_ready(std::chrono::seconds(5));
//   engine.client().put("hello", "world");
//
// A single node needs no configuration and leads as soon as it starts. Restarting on the same
// data_dir recovers every acknowledged write. No exception crosses this API.

#include <chrono>
#include <memory>
#include <string>

#include "dengine/engine_options.h"
#include "dengine/entry.h"
#include "dengine/kv_client.h"
#include "dengine/status.h"
#include "dengine/types.h"

namespace dengine {

class EmbeddedEngine {
 public:
  // A single node on `data_dir`, with every default.
  static Result<std::unique_ptr<EmbeddedEngine>> start(const std::string& data_dir);
  static Result<std::unique_ptr<EmbeddedEngine>> start(EngineOptions options);

  // Stops (see stop()).
  ~EmbeddedEngine();
  EmbeddedEngine(const EmbeddedEngine&) = delete;
  EmbeddedEngine& operator=(const EmbeddedEngine&) = delete;

  // Waits, in real time, until a leader is known and has committed an entry of its term on
  // this node. kTimedOut otherwise; kUnavailable once stopped.
  Status wait_ready(std::chrono::milliseconds timeout);

  // Stops the node: requests in flight fail with kUnavailable, everything applied is flushed
  // to disk. Idempotent. Returns why the node had stopped on its own, if it had.
  Status stop();

  KvClient& client();

  [[nodiscard]] NodeId id() const;
  [[nodiscard]] bool is_leader() const;
  // kNoNode while none is known.
  [[nodiscard]] NodeId leader() const;
  [[nodiscard]] ConfState members() const;

  struct Impl;

 private:
  explicit EmbeddedEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dengine

#pragma once

// RemoteClient: the KvClient of dengine/kv_client.h over etcd's v3 gRPC API, to dengine-server,
// an embedded member's client URL, or a real etcd 3.4. Link dengine::client (find_package(dengine
// CONFIG COMPONENTS client)); the engine is not in it.
//
//   auto connected = dengine::RemoteClient::connect({"127.0.0.1:2379", "127.0.0.1:22379"});
//   if (!connected) { std::cerr << connected.status().to_string() << "\n"; return 1; }
//   dengine::KvClient& kv = (*connected)->client();
//   kv.put("hello", "world");                 // the same calls, blocking or with a token
//
// - Every call has a deadline (request_timeout), and fails over to the next endpoint when the
//   one in use is unavailable.
// - A read is retried on another endpoint; a write never is once it may have reached a member:
//   if no answer came back it fails with StatusCode::kUnknownOutcome, which says exactly that.
//   Read back what it would have changed before deciding to write again.
// - Watches resume after a reconnect from the revision after the last one delivered: no gap,
//   no duplicate. They end with ErrorDetail::kCompacted if that revision was compacted meanwhile.
// - keep_alive() renews the lease in the background from a thread of the client's own.
// - Completion handlers run on the client's threads (gRPC's or its worker's), or on the executor
//   associated with them.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "dengine/kv_client.h"
#include "dengine/status.h"

namespace dengine {

struct RemoteClientOptions {
  // How long connect() and each failover wait for an endpoint to accept a connection.
  std::chrono::milliseconds dial_timeout{2000};
  // The deadline of every call (a blocking one returns kTimedOut, or kUnknownOutcome for a write
  // that was sent, once it passes).
  std::chrono::milliseconds request_timeout{5000};
  // How long a broken watch waits before it reconnects (to the next endpoint).
  std::chrono::milliseconds watch_retry{200};
};

class RemoteClient {
 public:
  // "host:port" (or "http://host:port") of each member; the first that accepts a connection
  // within dial_timeout is used first. kUnavailable when none does.
  static Result<std::unique_ptr<RemoteClient>> connect(std::vector<std::string> endpoints,
                                                       RemoteClientOptions options = {});
  // Ends every watch and keep-alive (kUnavailable); calls in flight complete first.
  ~RemoteClient();
  RemoteClient(const RemoteClient&) = delete;
  RemoteClient& operator=(const RemoteClient&) = delete;

  [[nodiscard]] KvClient& client();
  // The endpoint calls go to now.
  [[nodiscard]] std::string endpoint() const;

  struct Impl;

 private:
  explicit RemoteClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dengine

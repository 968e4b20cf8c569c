#pragma once

// dengine-server's moving parts: the engine on the data dir, and etcd's gRPC services on the
// client URLs in front of it, and the peer listener beside it. start() returns once clients can
// connect; stop() is graceful (a leader hands leadership to another voter first, calls in
// flight are answered, then the engine stops and flushes).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dengine/status.h"
#include "server/server_config.h"
#include "server/server_ids.h"

namespace dengine::server {

class EtcdServer {
 public:
  // `ids` come from the flags; an existing data dir's own ids take their place. `on_removed`
  // runs (on a server thread, which may call stop()) once this member sees itself removed from
  // the cluster: the owner should stop it then, as etcd stops a removed member.
  static Result<std::unique_ptr<EtcdServer>> start(const ServerConfig& config, ServerIds ids,
                                                   std::function<void()> on_removed = {});
  ~EtcdServer();
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  // The ids this member serves with.
  [[nodiscard]] const ServerIds& ids() const;
  // "host:port" per client URL, with the port the system chose for a port 0.
  [[nodiscard]] const std::vector<std::string>& client_addresses() const;
  // "host:port" per peer URL, likewise.
  [[nodiscard]] const std::vector<std::string>& peer_addresses() const;
  // Idempotent.
  Status stop();

 private:
  struct Parts;
  explicit EtcdServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace dengine::server

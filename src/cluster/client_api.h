#pragma once

// etcd's v3 client API (api/: KV, Watch, Lease, Cluster, Maintenance, Lock, Election) served by
// a member on its client URLs, with etcd's gRPC settings. dengine-server always serves it; an
// embedded member when asked (ClusterMemberOptions::serve_client_api).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/membership_admin.h"
#include "cluster/cluster_ids.h"
#include "dengine/embedded_engine.h"
#include "dengine/member_config.h"
#include "dengine/status.h"

namespace dengine::cluster {

// How long a graceful stop lets client calls in flight finish.
inline constexpr std::chrono::seconds kClientShutdownGrace{5};

class ClientApi {
 public:
  // Listens on config.listen_client_urls; kUnavailable naming the URL when one cannot be bound.
  static Result<std::unique_ptr<ClientApi>> start(const MemberConfig& config, const ClusterIds& ids,
                                                  EmbeddedEngine& engine,
                                                  api::MembershipAdmin& admin);
  ~ClientApi();
  ClientApi(const ClientApi&) = delete;
  ClientApi& operator=(const ClientApi&) = delete;

  // "host:port" per client URL, with the port the system chose for a port 0.
  [[nodiscard]] const std::vector<std::string>& addresses() const;
  // Ends the calls that wait (locks, campaigns, observers), then lets the others finish for a
  // grace period. Idempotent; the engine must still run (the calls' completions need it).
  void shut_down();

  struct Parts;

 private:
  explicit ClientApi(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// Binds every URL; "host:port" per URL with the port the system chose for a port 0, or
// kUnavailable naming the URL. `ports` as grpc::ServerBuilder::AddListeningPort filled them.
Result<std::vector<std::string>> bound_addresses(const std::vector<Url>& urls,
                                                 const std::vector<int>& ports, bool server_started,
                                                 std::string_view what);

}  // namespace dengine::cluster

#pragma once

// ClusterMember: an EmbeddedEngine that is one member of a cluster over the network, in any
// process on any host (etcd's embed.Etcd). Link dengine::cluster
// (`find_package(dengine CONFIG COMPONENTS cluster)`).
//
//   dengine::Result<dengine::MemberConfig> config = dengine::parse_member_config(
//       {"--name=a", "--data-dir=./a", "--listen-peer-urls=http://10.0.0.1:2380",
//        "--initial-advertise-peer-urls=http://10.0.0.1:2380",
//        "--initial-cluster=a=http://10.0.0.1:2380,b=http://10.0.0.2:2380,c=http://10.0.0.3:2380"},
//       {});
//   auto member = dengine::ClusterMember::start(*config);
//   (*member)->wait_ready(std::chrono::seconds(10));
//   (*member)->client().put("hello", "world");
//
// The configuration is etcd's member flags (dengine/member_config.h), with etcd's rules: the
// ids of a new cluster follow from --initial-cluster and --initial-cluster-token; with
// --initial-cluster-state=existing a member asks the running members named there to find the
// id `add_member` gave it; a restart on a data dir needs nothing else (the data dir's ids win).
// A member never serves etcd's client API unless asked (serve_client_api). No exception
// crosses this API.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dengine/embedded_engine.h"
#include "dengine/member_config.h"
#include "dengine/member_record.h"
#include "dengine/membership.h"
#include "dengine/status.h"

namespace dengine {

struct ClusterMemberOptions {
  // Serve etcd's v3 client API (KV, Watch, Lease, Cluster, Maintenance, Lock, Election) on
  // config.listen_client_urls, so that etcdctl and every etcd client reach this member. Off:
  // the client URLs are only published in the member's record.
  bool serve_client_api = false;
  // Runs (on a member thread, which may call stop()) once this member sees itself removed from
  // the cluster; etcd stops a removed member.
  std::function<void()> on_removed;
};

// A member of the cluster, as `members_with_records()` lists it.
struct ClusterMemberRecord {
  MemberRecord record;
  bool is_learner = false;

  friend bool operator==(const ClusterMemberRecord&, const ClusterMemberRecord&) = default;
};

class ClusterMember {
 public:
  // Returns once peers and (when asked) clients can connect; the member may not have a leader
  // yet (wait_ready). Bad configuration is refused before anything is written.
  static Result<std::unique_ptr<ClusterMember>> start(const MemberConfig& config,
                                                      ClusterMemberOptions options = {});
  // Stops (see stop()).
  ~ClusterMember();
  ClusterMember(const ClusterMember&) = delete;
  ClusterMember& operator=(const ClusterMember&) = delete;

  // The engine inside: the same API as a single process's (its stop() hands leadership over
  // too, but leaves the listeners to this member's stop()).
  EmbeddedEngine& engine();
  KvClient& client() { return engine().client(); }
  Status wait_ready(std::chrono::milliseconds timeout) { return engine().wait_ready(timeout); }
  [[nodiscard]] NodeId id() const;
  [[nodiscard]] uint64_t cluster_id() const;
  [[nodiscard]] bool is_leader() const;
  [[nodiscard]] NodeId leader() const;
  [[nodiscard]] ConfState members() const;
  MembershipWatch watch_membership();
  // Every member in the configuration with its name and URLs, in id order (etcd's MemberList).
  [[nodiscard]] std::vector<ClusterMemberRecord> members_with_records() const;

  // ---- cluster operations, with etcd's semantics and refusals (ErrorDetail): called on any
  // member, each returns once the change is in force on this member. ----
  // etcd's MemberAdd: records the peer URLs under a new id and adds the member (a learner, or
  // a voter). Start the new member with --initial-cluster-state=existing and those URLs.
  Result<MemberRecord> add_member(std::vector<std::string> peer_urls, bool as_learner);
  Status promote(NodeId member);
  Status remove_member(NodeId member);
  // etcd's MemberUpdate: new peer URLs for a member.
  Status update_member(NodeId member, std::vector<std::string> peer_urls);
  Status transfer_leadership(
      NodeId to, std::chrono::milliseconds timeout = EmbeddedEngine::kDefaultChangeTimeout);

  // "host:port" per peer URL and per client URL (empty unless serving the client API), with the
  // port the system chose for a port 0.
  [[nodiscard]] const std::vector<std::string>& peer_addresses() const;
  [[nodiscard]] const std::vector<std::string>& client_addresses() const;

  // Graceful, as etcd's: a leader hands leadership to another voter first, client calls in
  // flight are answered, then the engine stops and flushes and the listeners close.
  // Idempotent; returns why the engine had stopped on its own, if it had.
  Status stop();

  struct Parts;

 private:
  explicit ClusterMember(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// A member logs what an operator watches for (where it serves, who leads, membership changes,
// how it stops) through spdlog's default logger. This sends those lines to stderr at etcd's
// --log-level (debug, info, warn, error; dpanic, panic and fatal keep only the most severe),
// each as "<time> <level> | <program>: <text>". Call it once, before starting the member.
void log_member_to_stderr(std::string_view log_level, std::string_view program);

}  // namespace dengine

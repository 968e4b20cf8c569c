#pragma once

// Where each member listens for its peers, for the transport and the router, which ask on
// every new connection (any thread): the bootstrap's peer URLs (server-ids) until the
// replicated member records say otherwise. Refreshed by the server as it applies membership
// changes; a member it cannot place yet is simply not reached until the next refresh (Raft
// sends again).

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/membership_admin.h"
#include "cluster/cluster_ids.h"

namespace dengine::cluster {

class PeerAddressBook {
 public:
  explicit PeerAddressBook(const ClusterIds& bootstrap);

  // "host:port" of the member's first usable peer URL.
  [[nodiscard]] std::optional<std::string> address_of(NodeId id) const;
  // Whether `id` may talk to this member: in the configuration or recorded (being added); before
  // the first refresh that brings a configuration, one of the members it was started knowing
  // (server-ids).
  [[nodiscard]] bool admits(NodeId id) const;

  // Takes in the members and records as now applied.
  void refresh(const std::vector<api::RosterMember>& members,
               const std::vector<MemberRecord>& records);

 private:
  mutable std::mutex mutex_;
  std::map<NodeId, std::string> addresses_;
  std::set<NodeId> admitted_;
  std::set<NodeId> bootstrap_;
};

// "host:port" for gRPC (an IPv6 host in brackets).
std::string grpc_address(const Url& url);
// The same from a URL's text; nullopt when it does not parse.
std::optional<std::string> grpc_address_of_url(const std::string& url);

}  // namespace dengine::cluster

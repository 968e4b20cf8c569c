#pragma once

// The member's own thread beside the engine, until the engine stops: logs who leads and the
// membership whenever either changes, keeps the peer address book current, publishes this
// member's name and client URLs once a leader is known (etcd's publish), notices this member's
// removal, and (on the leader) forgets member records that no configuration names.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cluster_ids.h"
#include "cluster/member_roster.h"
#include "cluster/peer_address_book.h"
#include "dengine/embedded_engine.h"
#include "dengine/membership.h"

namespace dengine::cluster {

struct Publication {
  std::string name;
  std::vector<std::string> client_urls;
  std::vector<std::string> peer_urls;
};

class MembershipFollower {
 public:
  MembershipFollower(EmbeddedEngine& engine, const MemberRoster& roster, PeerAddressBook& book,
                     Publication publication, std::chrono::milliseconds election_timeout,
                     std::function<void()> on_removed);
  // Joins the thread, which ends with the engine (stop the engine first).
  ~MembershipFollower();
  MembershipFollower(const MembershipFollower&) = delete;
  MembershipFollower& operator=(const MembershipFollower&) = delete;

  void start();
  // Waits for the thread, which ends once the engine stopped; from the thread itself (an
  // on_removed that stops the member) it is left to finish alone.
  void join();

 private:
  void follow();
  bool removed(const ConfState& conf);
  void collect_orphan_records(const std::vector<api::RosterMember>& members,
                              const std::vector<MemberRecord>& records);
  void log_images_sent();
  bool publish();
  void log_changes(const std::optional<MembershipEvent>& last, const MembershipEvent& event);

  EmbeddedEngine& engine_;
  const MemberRoster& roster_;
  PeerAddressBook& book_;
  const Publication publication_;
  const std::function<void()> on_removed_;
  const std::chrono::milliseconds election_timeout_;
  std::thread thread_;
  bool was_member_ = false;
  std::optional<std::chrono::steady_clock::time_point> leaving_since_;
  std::map<NodeId, std::chrono::steady_clock::time_point> orphaned_since_;
  uint64_t images_sent_ = 0;
};

}  // namespace dengine::cluster

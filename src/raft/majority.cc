#include "raft/majority.h"

#include <algorithm>

namespace dengine::raft {

MajorityConfig::MajorityConfig(std::vector<NodeId> voters) : voters_(std::move(voters)) {
  std::sort(voters_.begin(), voters_.end());
  voters_.erase(std::unique(voters_.begin(), voters_.end()), voters_.end());
}

bool MajorityConfig::contains(NodeId id) const {
  return std::binary_search(voters_.begin(), voters_.end(), id);
}

Index MajorityConfig::committed_index(const std::function<Index(NodeId)>& match_of) const {
  if (voters_.empty()) return 0;
  std::vector<Index> matches;
  matches.reserve(voters_.size());
  for (NodeId id : voters_) matches.push_back(match_of(id));
  // The quorum()-th largest match is held by at least a majority.
  std::sort(matches.begin(), matches.end(), std::greater<>());
  return matches[quorum() - 1];
}

VoteResult MajorityConfig::vote_result(const std::map<NodeId, bool>& votes) const {
  size_t granted = 0;
  size_t rejected = 0;
  for (NodeId id : voters_) {
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    (it->second ? granted : rejected) += 1;
  }
  if (granted >= quorum()) return VoteResult::kWon;
  if (voters_.size() - rejected < quorum()) return VoteResult::kLost;
  return VoteResult::kPending;
}

bool MajorityConfig::quorum_satisfies(const std::function<bool(NodeId)>& active) const {
  size_t count = 0;
  for (NodeId id : voters_) {
    if (active(id)) ++count;
  }
  return count >= quorum();
}

}  // namespace dengine::raft

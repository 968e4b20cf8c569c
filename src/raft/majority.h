#pragma once

#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "dengine/types.h"

namespace dengine::raft {

enum class VoteResult : uint8_t { kPending, kWon, kLost };

// A set of voters and what "a majority of them" means (Raft §5.2, §5.3). Kept on its own so
// joint consensus can combine two of them.
class MajorityConfig {
 public:
  MajorityConfig() = default;
  explicit MajorityConfig(std::vector<NodeId> voters);

  [[nodiscard]] const std::vector<NodeId>& voters() const { return voters_; }
  [[nodiscard]] bool contains(NodeId id) const;
  [[nodiscard]] size_t quorum() const { return voters_.size() / 2 + 1; }

  // The highest index that a majority has acknowledged (`match_of` gives each voter's).
  [[nodiscard]] Index committed_index(const std::function<Index(NodeId)>& match_of) const;
  // kWon with a majority of grants; kLost once a majority can no longer be reached.
  [[nodiscard]] VoteResult vote_result(const std::map<NodeId, bool>& votes) const;
  // Whether a majority satisfies `active`.
  [[nodiscard]] bool quorum_satisfies(const std::function<bool(NodeId)>& active) const;

 private:
  std::vector<NodeId> voters_;  // sorted, unique
};

}  // namespace dengine::raft

#include "raft/heartbeat_rounds.h"

#include <utility>

namespace dengine::raft {

uint64_t HeartbeatRounds::start_round(uint64_t sent_at, std::vector<PendingRead>* aborted) {
  if (rounds_.size() >= max_rounds_) {
    for (PendingRead& read : rounds_.front().reads) aborted->push_back(read);
    rounds_.pop_front();
  }
  rounds_.push_back(Round{++last_round_id_, sent_at, std::move(queued_), {}});
  queued_.clear();
  return last_round_id_;
}

HeartbeatRounds::Confirmed HeartbeatRounds::acknowledge(NodeId voter, uint64_t round_id,
                                                        NodeId self, const JointConfig& voters) {
  Confirmed confirmed;
  size_t newest_confirmed = 0;  // how many rounds, from the front, are confirmed
  for (size_t i = 0; i < rounds_.size() && rounds_[i].id <= round_id; ++i) {
    Round& round = rounds_[i];
    round.acks.insert(voter);
    const bool quorum = voters.quorum_satisfies(
        [&round, self](NodeId node) { return node == self || round.acks.count(node) > 0; });
    if (quorum) newest_confirmed = i + 1;
  }
  for (size_t i = 0; i < newest_confirmed; ++i) {
    Round& round = rounds_.front();
    confirmed.any = true;
    confirmed.sent_at = round.sent_at;
    for (PendingRead& read : round.reads) confirmed.reads.push_back(read);
    rounds_.pop_front();
  }
  return confirmed;
}

std::vector<PendingRead> HeartbeatRounds::take_all() {
  std::vector<PendingRead> all;
  for (Round& round : rounds_) {
    for (PendingRead& read : round.reads) all.push_back(read);
  }
  for (PendingRead& read : queued_) all.push_back(read);
  rounds_.clear();
  queued_.clear();
  return all;
}

}  // namespace dengine::raft

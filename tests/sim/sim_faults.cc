// The nemesis: injects one fault at a time at random moments of the fault phase.

#include <algorithm>
#include <string>
#include <vector>

#include "tests/sim/simulation.h"

namespace dengine::sim {

void Simulation::schedule_next_fault() {
  schedule(rng_.between(50'000, 400'000), [this] {
    if (!faults_active_) return;
    inject_fault();
    schedule_next_fault();
  });
}

NodeId Simulation::pick_victim() {
  // Faults that hit the leader drive the leader changes where Raft's subtle cases live.
  if (rng_.chance(shape_.leader_focus)) {
    for (const Node& n : nodes_) {
      if (n.up && n.raft->role() == RaftRole::kLeader) return n.id;
    }
  }
  return rng_.between(1, static_cast<uint64_t>(options_.nodes));
}

void Simulation::crash_and_restart_later(Node& victim) {
  crash_node(victim);
  schedule(rng_.between(20'000, 600'000), [this, id = victim.id] {
    Node& n = node(id);
    if (!n.up) start_node(n);
  });
}

void Simulation::propose_membership_change(Node& leader, std::string* what) {
  const ConfState conf = leader.raft->conf_state();
  std::vector<NodeId> others;
  for (const Node& n : nodes_) {
    const bool member =
        std::find(conf.voters.begin(), conf.voters.end(), n.id) != conf.voters.end() ||
        std::find(conf.learners.begin(), conf.learners.end(), n.id) != conf.learners.end();
    if (!member) others.push_back(n.id);
  }
  // Take a few of `pool` (several at once: joint consensus exists for multi-node changes).
  auto take = [this](std::vector<NodeId> pool, size_t at_most) {
    std::vector<NodeId> picked;
    const size_t limit = std::min(at_most, pool.size());
    const size_t count = limit == 0 ? 0 : rng_.between(1, limit);
    for (size_t i = 0; i < count; ++i) {
      const size_t at = rng_.below(pool.size());
      picked.push_back(pool[at]);
      pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(at));
    }
    return picked;
  };
  std::vector<ConfChange> changes;
  switch (rng_.below(4)) {
    case 0:  // remove voters, keeping at least one
      for (NodeId id : take(conf.voters, conf.voters.size() - 1)) {
        changes.push_back({ConfChangeOp::kRemoveNode, id});
      }
      break;
    case 1:  // add non-members as learners
      for (NodeId id : take(others, 3)) changes.push_back({ConfChangeOp::kAddLearner, id});
      break;
    case 2:  // add non-members straight as voters
      for (NodeId id : take(others, 3)) changes.push_back({ConfChangeOp::kAddVoter, id});
      break;
    default:  // promote learners and remove voters in one change
      for (NodeId id : take(conf.learners, 3)) changes.push_back({ConfChangeOp::kAddVoter, id});
      if (conf.voters.size() > 1) {
        for (NodeId id : take(conf.voters, conf.voters.size() - 1)) {
          changes.push_back({ConfChangeOp::kRemoveNode, id});
        }
      }
      break;
  }
  if (changes.empty()) return;
  Result<Index> proposed = leader.raft->propose_conf_change(changes);
  if (!proposed) return;
  ++stats_.membership_changes;
  for (const ConfChange& change : changes) {
    *what += change.op == ConfChangeOp::kRemoveNode   ? " -n"
             : change.op == ConfChangeOp::kAddLearner ? " +learner n"
                                                      : " +voter n";
    *what += std::to_string(change.node);
  }
  drain(leader);
}

void Simulation::maybe_crash_new_leader(Node& leader) {
  if (!faults_active_ || !options_.faults.has(Fault::kCrash)) return;
  if (!rng_.chance(shape_.new_leader_crash)) return;
  schedule(rng_.between(100, 5'000), [this, id = leader.id, inc = leader.incarnation] {
    Node& n = node(id);
    if (!n.up || n.incarnation != inc || !faults_active_) return;
    trace("FAULT crash of new leader n" + std::to_string(id));
    crash_and_restart_later(n);
  });
}

void Simulation::inject_fault() {
  std::vector<Fault> enabled;
  for (uint32_t bit = 1; bit < kAllFaults; bit <<= 1) {
    // Drift is a property of the run, set up front, not an event.
    if (bit == static_cast<uint32_t>(Fault::kDrift)) continue;
    if (options_.faults.has(static_cast<Fault>(bit))) enabled.push_back(static_cast<Fault>(bit));
  }
  if (enabled.empty()) return;
  const Fault fault = enabled[rng_.below(enabled.size())];
  const Micros duration = rng_.between(100'000, 1'500'000);
  const Micros until = now_ + duration;
  const auto node_count = static_cast<uint64_t>(options_.nodes);
  std::string what = std::string(fault_name(fault));

  switch (fault) {
    case Fault::kLoss:
      loss_probability_ = static_cast<double>(rng_.between(1, 30)) / 100.0;
      schedule(duration, [this] { loss_probability_ = 0; });
      what += " p=" + std::to_string(loss_probability_);
      break;
    case Fault::kDuplicate:
      duplicate_probability_ = static_cast<double>(rng_.between(1, 30)) / 100.0;
      schedule(duration, [this] { duplicate_probability_ = 0; });
      break;
    case Fault::kDelay:
      long_delay_probability_ = static_cast<double>(rng_.between(1, 20)) / 100.0;
      schedule(duration, [this] { long_delay_probability_ = 0; });
      break;
    case Fault::kReorder:
      reorder_ = true;
      schedule(duration, [this] { reorder_ = false; });
      break;
    case Fault::kPartition: {
      ++stats_.partitions;
      // A random side of 1..n-1 nodes, cut off both ways from the rest.
      std::vector<bool> side(nodes_.size());
      const uint64_t side_size = rng_.between(1, node_count - 1);
      side[pick_victim() - 1] = true;
      for (uint64_t placed = 1; placed < side_size;) {
        const uint64_t pick = rng_.below(node_count);
        if (!side[pick]) {
          side[pick] = true;
          ++placed;
        }
      }
      what += " {";
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (side[i]) what += " n" + std::to_string(i + 1);
        for (size_t j = 0; j < nodes_.size(); ++j) {
          if (side[i] != side[j]) cut_until_[LinkKey{NodeId(i + 1), NodeId(j + 1)}] = until;
        }
      }
      what += " }";
      break;
    }
    case Fault::kOneWayPartition: {
      ++stats_.partitions;
      const NodeId from = pick_victim();
      // Cut everything `from` sends, or everything it receives.
      const bool outgoing = rng_.chance(0.5);
      for (NodeId other = 1; other <= node_count; ++other) {
        if (other == from) continue;
        cut_until_[outgoing ? LinkKey{from, other} : LinkKey{other, from}] = until;
      }
      what += (outgoing ? " from n" : " to n") + std::to_string(from);
      break;
    }
    case Fault::kClog: {
      ++stats_.clogs;
      const NodeId target = pick_victim();
      clogged_until_[target] = until;
      what += " n" + std::to_string(target);
      break;
    }
    case Fault::kCrash: {
      Node& victim = node(pick_victim());
      if (!victim.up) return;
      crash_and_restart_later(victim);
      what += " n" + std::to_string(victim.id);
      break;
    }
    case Fault::kPause: {
      ++stats_.pauses;
      // A paused leader is the case that matters: it resumes believing it still leads.
      Node* leader = nullptr;
      for (Node& n : nodes_) {
        if (n.up && n.raft->role() == RaftRole::kLeader) leader = &n;
      }
      Node& target = leader != nullptr && rng_.chance(0.75) ? *leader : node(pick_victim());
      // Long enough, often, for the others to elect a new leader meanwhile.
      target.paused_until = std::max(target.paused_until, now_ + rng_.between(20'000, 900'000));
      what += " n" + std::to_string(target.id) + " until " +
              std::to_string(target.paused_until / 1000) + "ms";
      break;
    }
    case Fault::kDrift: break;
    case Fault::kMembership: {
      for (Node& n : nodes_) {
        if (!n.up || n.raft->role() != RaftRole::kLeader || now_ < n.paused_until) continue;
        propose_membership_change(n, &what);
        break;
      }
      break;
    }
    case Fault::kTransfer: {
      for (Node& n : nodes_) {
        if (!n.up || n.raft->role() != RaftRole::kLeader || now_ < n.paused_until) continue;
        const NodeId target = rng_.between(1, node_count);
        if (!n.raft->transfer_leadership(target)) return;
        ++stats_.leader_transfers;
        node(target).transfer_requested = true;
        what += " n" + std::to_string(n.id) + " -> n" + std::to_string(target);
        drain(n);
        break;
      }
      break;
    }
    case Fault::kSlowDisk: {
      ++stats_.slow_disks;
      Node& target = node(rng_.between(1, node_count));
      target.slow_disk_until = until;
      what += " n" + std::to_string(target.id);
      break;
    }
  }
  trace("FAULT " + what + " for " + std::to_string(duration / 1000) + "ms");
}

void Simulation::heal_all() {
  faults_active_ = false;
  healed_at_ = now_;
  loss_probability_ = 0;
  duplicate_probability_ = 0;
  long_delay_probability_ = 0;
  reorder_ = false;
  cut_until_.clear();
  clogged_until_.clear();
  for (Node& n : nodes_) {
    n.slow_disk_until = 0;
    n.paused_until = std::min(n.paused_until, now_);
    if (!n.up) start_node(n);
  }
  trace("HEAL: all faults stopped");
}

}  // namespace dengine::sim

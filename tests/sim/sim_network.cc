// The simulated network: latency, loss, duplication, reordering, partitions and clogging.

#include <string>

#include "tests/sim/simulation.h"

namespace dengine::sim {

bool Simulation::link_cut(NodeId from, NodeId to) const {
  auto it = cut_until_.find(LinkKey{from, to});
  return it != cut_until_.end() && now_ < it->second;
}

void Simulation::send(Message message) {
  ++stats_.messages;
  const NodeId from = message.from;
  const NodeId to = message.to;
  if (link_cut(from, to) || (loss_probability_ > 0 && rng_.chance(loss_probability_))) {
    ++stats_.messages_dropped;
    return;
  }
  Micros latency = rng_.between(200, 2'000);
  if (long_delay_probability_ > 0 && rng_.chance(long_delay_probability_)) {
    latency += rng_.between(10'000, 300'000);
  }
  // A clogged node's traffic waits until the clog clears.
  Micros deliver_at = now_ + latency;
  for (NodeId end : {from, to}) {
    auto it = clogged_until_.find(end);
    if (it != clogged_until_.end() && it->second > now_) {
      deliver_at = std::max(deliver_at, it->second + latency);
    }
  }
  // Without the reorder fault a link is FIFO, like a TCP connection.
  Micros& last = link_last_delivery_[LinkKey{from, to}];
  if (!reorder_) deliver_at = std::max(deliver_at, last);
  last = std::max(last, deliver_at);

  // The transport carries the sender's image beside a kSnapshot message.
  std::shared_ptr<const Image> image;
  if (message.type == MessageType::kSnapshot) {
    image = node(from).durable_image;
    if (!image || image->meta.index != message.snapshot.index) {
      fail("n" + std::to_string(from) + " sends snapshot " +
           std::to_string(message.snapshot.index) + " but holds no such image");
      return;
    }
    ++stats_.snapshots_sent;
  }
  const int copies = duplicate_probability_ > 0 && rng_.chance(duplicate_probability_) ? 2 : 1;
  for (int copy = 0; copy < copies; ++copy) {
    Micros at = deliver_at + static_cast<Micros>(copy) * rng_.between(0, 20'000);
    schedule(at - now_, [this, m = message, image]() mutable { deliver(std::move(m), image); });
  }
}

void Simulation::deliver(Message message, std::shared_ptr<const Image> image) {
  Node& target = node(message.to);
  if (!target.up || failure_) {
    ++stats_.messages_dropped;
    return;
  }
  // Delivered after the node resumes, behind whatever else was waiting for it.
  if (now_ < target.paused_until) {
    schedule(target.paused_until - now_ + 1,
             [this, m = std::move(message), image]() mutable { deliver(std::move(m), image); });
    return;
  }
  if (options_.trace) {
    std::string line = "n" + std::to_string(message.to) + " <- n" + std::to_string(message.from) +
                       " " + std::string(message_type_name(message.type)) + " term " +
                       std::to_string(message.term) + " index " + std::to_string(message.index) +
                       " log_term " + std::to_string(message.log_term);
    if (!message.entries.empty()) line += " entries " + std::to_string(message.entries.size());
    if (message.commit != 0) line += " commit " + std::to_string(message.commit);
    if (message.reject) line += " REJECT hint " + std::to_string(message.hint_index);
    trace(line);
  }
  target.raft->observe_clock(node_clock_nanos(target));
  target.incoming_image = std::move(image);
  target.raft->step(message);
  drain(target);
}

}  // namespace dengine::sim

// Three engines in one process form a cluster; the leader is stopped and the other two elect
// a new one, with every acknowledged write still there.
//
//   three-node-embedded [data-dir]

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "dengine/embedded_engine.h"
#include "dengine/in_process_network.h"

using dengine::EmbeddedEngine;
using dengine::NodeId;

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : "./dengine-data-three-node";
  auto network = dengine::InProcessNetwork::create();
  std::map<NodeId, std::unique_ptr<EmbeddedEngine>> engines;
  for (NodeId id : {1, 2, 3}) {
    dengine::EngineOptions options;
    options.data_dir = root + "/node-" + std::to_string(id);
    options.node_id = id;
    options.initial_members = {1, 2, 3};
    options.network = network;
    auto started = EmbeddedEngine::start(options);
    if (!started) {
      std::cerr << "node " << id << ": " << started.status().message() << "\n";
      return 1;
    }
    engines[id] = std::move(*started);
  }
  for (auto& [id, engine] : engines) {
    if (auto ready = engine->wait_ready(std::chrono::seconds(10)); !ready) {
      std::cerr << "node " << id << ": " << ready.message() << "\n";
      return 1;
    }
  }
  const NodeId first = engines.at(1)->leader();
  std::cout << "leader: node " << first << "\n";

  // Any member takes writes: a follower hands them to the leader.
  const NodeId follower = first == 1 ? 2 : 1;
  if (auto put = engines.at(follower)->client().put("greeting", "hello"); !put) {
    std::cerr << "put: " << put.status().message() << "\n";
    return 1;
  }

  // Watch the membership from the follower while the leader goes away.
  dengine::MembershipWatch membership = engines.at(follower)->watch_membership();
  (void)membership.next(std::chrono::milliseconds(0));  // the state now
  engines.erase(first);
  std::cout << "stopped node " << first << "\n";
  NodeId second = dengine::kNoNode;
  dengine::Term term = 0;
  while (second == dengine::kNoNode || second == first) {
    auto event = membership.next(std::chrono::seconds(10));
    if (!event) {
      std::cerr << "no new leader: " << event.status().message() << "\n";
      return 1;
    }
    second = event->leader;
    term = event->term;
  }
  std::cout << "new leader: node " << second << " (term " << term << ")\n";

  // The write acknowledged before the failover is still there; new writes go on.
  if (auto ready = engines.at(follower)->wait_ready(std::chrono::seconds(10)); !ready) {
    std::cerr << "after failover: " << ready.message() << "\n";
    return 1;
  }
  auto got = engines.at(follower)->client().get("greeting");
  if (!got || !got->has_value()) {
    std::cerr << "the acknowledged write is missing\n";
    return 1;
  }
  std::cout << "greeting = " << (*got)->value << "\n";
  if (auto put = engines.at(second)->client().put("after", "failover"); !put) {
    std::cerr << "put after failover: " << put.status().message() << "\n";
    return 1;
  }
  std::cout << "ok\n";
  return 0;
}

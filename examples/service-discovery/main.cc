// Service discovery with leases and a prefix watch: instances register under
// "services/api/" with a lease they keep alive; a client watches the prefix and sees
// instances come and go, also one that dies without deregistering (its lease expires).
//
//   service-discovery [data-dir]

#include <chrono>
#include <iostream>
#include <string>

#include "dengine/embedded_engine.h"

int main(int argc, char** argv) {
  const std::string data_dir = argc > 1 ? argv[1] : "./dengine-data-service-discovery";
  auto started = dengine::EmbeddedEngine::start(data_dir);
  if (!started) {
    std::cerr << started.status().message() << "\n";
    return 1;
  }
  dengine::EmbeddedEngine& engine = **started;
  if (auto ready = engine.wait_ready(std::chrono::seconds(5)); !ready) {
    std::cerr << ready.message() << "\n";
    return 1;
  }
  dengine::KvClient& kv = engine.client();

  // The client: what is registered now, then every change from the next revision on.
  auto now = kv.range_prefix("services/api/");
  if (!now) {
    std::cerr << now.status().message() << "\n";
    return 1;
  }
  std::cout << now->kvs.size() << " instances registered at revision " << now->revision << "\n";
  dengine::Watch changes = kv.watch_prefix("services/api/", {.start_revision = now->revision + 1});

  // Two instances register, each on its own lease; both keep their leases alive.
  struct Instance {
    std::string key;
    dengine::LeaseKeepAlive keep_alive;
  };
  std::vector<Instance> instances;
  for (const char* address : {"10.0.0.1:8080", "10.0.0.2:8080"}) {
    auto lease = kv.grant(std::chrono::seconds(2));
    if (!lease) {
      std::cerr << lease.status().message() << "\n";
      return 1;
    }
    const std::string key = std::string("services/api/") + address;
    if (auto put = kv.put(key, address, {.lease = lease->id}); !put) {
      std::cerr << put.status().message() << "\n";
      return 1;
    }
    instances.push_back({key, kv.keep_alive(lease->id)});
  }

  // The second instance dies: it stops renewing and never deletes its key.
  instances.back().keep_alive.stop();

  // The client sees two registrations, then the dead instance leave once its TTL passes.
  int seen = 0;
  while (seen < 3) {
    auto batch = changes.next();
    if (!batch) {
      std::cerr << "watch: " << batch.status().message() << "\n";
      return 1;
    }
    for (const dengine::Event& event : batch->events) {
      const bool up = event.type == dengine::EventType::kPut;
      std::cout << (up ? "up:   " : "down: ") << event.kv.key << " (revision "
                << event.kv.mod_revision << ")\n";
      ++seen;
    }
  }
  auto alive = kv.range_prefix("services/api/");
  if (!alive || alive->kvs.size() != 1) {
    std::cerr << "expected exactly one live instance\n";
    return 1;
  }
  std::cout << "live: " << alive->kvs.front().value << "\n";
  return 0;
}

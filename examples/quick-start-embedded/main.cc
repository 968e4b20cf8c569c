#include <chrono>
#include <iostream>

#include <dengine/embedded_engine.h>

int main(int argc, char** argv) {
  const std::string data_dir = argc > 1 ? argv[1] : "./dengine-data";
  auto started = dengine::EmbeddedEngine::start(data_dir);
  if (!started) {
    std::cerr << "start failed: " << started.status().message() << "\n";
    return 1;
  }
  dengine::EmbeddedEngine& engine = **started;
  if (auto ready = engine.wait_ready(std::chrono::seconds(5)); !ready) {
    std::cerr << "not ready: " << ready.message() << "\n";
    return 1;
  }
  dengine::KvClient& kv = engine.client();

  auto put = kv.put("hello", "world");
  if (!put) {
    std::cerr << "put failed: " << put.status().message() << "\n";
    return 1;
  }
  auto got = kv.get("hello", {.consistency = dengine::Read::Linearizable});
  if (!got || !got->has_value()) {
    std::cerr << "get failed\n";
    return 1;
  }
  std::cout << "hello = " << (*got)->value << " (revision " << put->revision << ")\n";

  auto swapped = kv.compare_and_swap("leader", std::nullopt, "me");
  std::cout << "claimed 'leader': " << (swapped && *swapped ? "yes" : "no (already taken)") << "\n";
  return engine.stop() ? 0 : 1;
}

#include <chrono>
#include <csignal>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <dengine/cluster_member.h>
#include <pthread.h>

// One member of a cluster over the network. Run it once per member, each with its own name,
// data dir and peer URL; etcd's member flags (--help lists them).
int main(int argc, char** argv) {
  auto config = dengine::parse_member_config(std::vector<std::string>(argv + 1, argv + argc), {});
  if (!config) {
    std::cerr << config.status().message() << "\n";
    return 2;
  }
  // Ctrl-C or SIGTERM stops the member gracefully: blocked here, before any thread starts, and
  // taken by sigwait() below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto started = dengine::ClusterMember::start(*config);
  if (!started) {
    std::cerr << "start failed: " << started.status().message() << "\n";
    return 1;
  }
  dengine::ClusterMember& member = **started;
  if (auto ready = member.wait_ready(std::chrono::seconds(30)); !ready) {
    std::cerr << "not ready: " << ready.message() << "\n";
    return 1;
  }
  dengine::KvClient& kv = member.client();
  if (auto put = kv.put("greeting/" + config->name, "hello from " + config->name); !put) {
    std::cerr << "put failed: " << put.status().message() << "\n";
    return 1;
  }
  // Every member's greeting, once the three have started (linearizable reads, on any member).
  for (int attempt = 0; attempt < 300; ++attempt) {
    auto greetings = kv.range_prefix("greeting/");
    if (greetings && greetings->kvs.size() == 3) {
      for (const dengine::KeyValue& greeting : greetings->kvs) {
        std::cout << greeting.key << " = " << greeting.value << "\n";
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cout << config->name << (member.is_leader() ? " leads" : " follows") << "; Ctrl-C stops it"
            << std::endl;
  int received = 0;
  sigwait(&stop_signals, &received);
  return member.stop() ? 0 : 1;
}

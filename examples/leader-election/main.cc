// Two candidates campaign for one role. "alpha" wins and announces its address; "beta" waits
// in line. An observer follows the leader: alpha's announcements, then beta once alpha
// resigns.

#include <chrono>
#include <future>
#include <iostream>
#include <string>

#include <dengine/election.h>
#include <dengine/embedded_engine.h>
#include <dengine/session.h>

namespace {

int fail(const std::string& what, const dengine::Status& why) {
  std::cerr << what << ": " << why.to_string() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string data_dir = argc > 1 ? argv[1] : "./dengine-data-leader-election";
  auto started = dengine::EmbeddedEngine::start(data_dir);
  if (!started) return fail("start failed", started.status());
  dengine::EmbeddedEngine& engine = **started;
  if (auto ready = engine.wait_ready(std::chrono::seconds(5)); !ready) {
    return fail("not ready", ready);
  }
  dengine::KvClient& kv = engine.client();

  // Each candidate has its own session: should its process die, its candidacy goes with the
  // session's lease, and the next candidate leads.
  auto alpha_session = dengine::Session::create(kv, {.ttl = std::chrono::seconds(10)});
  auto beta_session = dengine::Session::create(kv, {.ttl = std::chrono::seconds(10)});
  if (!alpha_session) return fail("alpha's session", alpha_session.status());
  if (!beta_session) return fail("beta's session", beta_session.status());
  dengine::Election alpha(**alpha_session, "elections/scheduler");
  dengine::Election beta(**beta_session, "elections/scheduler");
  dengine::ElectionObserver observer = alpha.observe();

  if (auto led = alpha.campaign("alpha at 10.0.0.1:7000"); !led) return fail("alpha", led);
  auto beta_leads = std::async(std::launch::async, [&beta] {
    return beta.campaign("beta at 10.0.0.2:7000", {.timeout = std::chrono::seconds(10)});
  });
  if (auto moved = alpha.proclaim("alpha at 10.0.0.1:7001"); !moved) return fail("alpha", moved);
  if (auto resigned = alpha.resign(); !resigned) return fail("alpha", resigned);
  if (auto led = beta_leads.get(); !led) return fail("beta", led);

  for (int change = 0; change < 3; ++change) {
    auto leader = observer.next({.timeout = std::chrono::seconds(5)});
    if (!leader) return fail("observer", leader.status());
    std::cout << "leader: " << leader->value << "\n";
  }
  auto leader = beta.leader();
  if (!leader) return fail("leader", leader.status());
  if (leader->key != beta.key()) {
    std::cerr << "beta should lead, but " << leader->value << " does\n";
    return 1;
  }
  for (auto* session : {&*alpha_session, &*beta_session}) {
    if (auto closed = (*session)->close(); !closed) return fail("closing a session", closed);
  }
  return engine.stop() ? 0 : 1;
}

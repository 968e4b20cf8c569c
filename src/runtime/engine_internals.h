#pragma once

// The runtime inside an EmbeddedEngine, for the library's own tests and the server, which
// need more than the public API shows (status details, rounds on a manual clock).

#include <memory>

#include "dengine/embedded_engine.h"
#include "dengine/unique_function.h"
#include "runtime/peer_router.h"
#include "runtime/raft_runtime.h"
#include "runtime/transport.h"

namespace dengine::runtime {

// Makes the passkey to EmbeddedEngine's internal members; only the library includes this.
class InternalKeys {
 public:
  static InternalKey make() { return {}; }
};

RaftRuntime& runtime_of(EmbeddedEngine& engine);

// How an engine reaches peers in other processes (dengine-server's gRPC transport and
// router) instead of an InProcessNetwork. The router must outlive the engine's runtime: stop
// the engine, then destroy the router (which ends the calls it has on their way), then the
// engine.
struct PeerWiring {
  std::unique_ptr<Transport> transport;
  PeerRouter* router = nullptr;
  // Runs once at the start of stop(), before anything stops: a networked member hands
  // leadership to another voter there (as etcd does), whoever calls stop().
  UniqueFunction<void()> before_stop;
};

// EngineOptions::validate(); with `peers_wired`, other members need no in-process network.
Status validate_options(const EngineOptions& options, bool peers_wired);

// As EmbeddedEngine::start, with options.network unset and the peers reached through `wiring`.
Result<std::unique_ptr<EmbeddedEngine>> start_with_peers(EngineOptions options, PeerWiring wiring);

}  // namespace dengine::runtime

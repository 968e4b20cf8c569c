#include "api/lock_service.h"

#include <memory>
#include <utility>

#include "dengine/embedded_engine.h"
#include "dengine/lock.h"
#include "dengine/session.h"
#include "kv/request_validation.h"

namespace dengine::api {
namespace {

// etcd 3.5's ErrSessionExpired: after waiting, the key had gone with the lease. etcd 3.4.23
// does not look again, and would answer with a key that no longer holds the lock.
constexpr const char* kSessionExpired = "mutex: session is expired";

// etcd's v3lock Lock: a session on the client's lease (lease 0: a new lease of etcd's default
// session TTL, 60 s), orphaned at once since keeping the lease alive is the client's job.
grpc::Status lock(const MemberHeader& header, const v3lockpb::LockRequest& request,
                  v3lockpb::LockResponse* response, std::stop_token stop) {
  SessionOptions session_options;
  session_options.lease = request.lease();
  Result<std::unique_ptr<Session>> session =
      Session::create(header.engine().client(), std::move(session_options));
  if (!session) return concurrency_error(session.status());
  (*session)->orphan();

  dengine::Lock mutex(**session, request.name());
  WaitOptions wait;
  wait.stop = std::move(stop);
  Result<int64_t> held = mutex.acquire(std::move(wait));
  if (!held) {
    // Once the key is in line (it has a revision), the engine's writes are over and only the
    // recheck after waiting can abort.
    const bool lost = held.status().code() == StatusCode::kAborted && mutex.fencing_token() != 0;
    return lost ? concurrency_error(kSessionExpired) : concurrency_error(held.status());
  }
  response->set_key(mutex.key());
  header.fill(response->mutable_header());
  return grpc::Status::OK;
}

}  // namespace

grpc::ServerUnaryReactor* LockService::Lock(grpc::CallbackServerContext* /*context*/,
                                            const v3lockpb::LockRequest* request,
                                            v3lockpb::LockResponse* response) {
  return WaitingUnaryCall::start(waiting_, [this, request, response](std::stop_token stop) {
    return lock(header_, *request, response, std::move(stop));
  });
}

grpc::ServerUnaryReactor* LockService::Unlock(grpc::CallbackServerContext* context,
                                              const v3lockpb::UnlockRequest* request,
                                              v3lockpb::UnlockResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  DeleteRangeRequest erase;
  erase.key = request->key();
  if (Status checked = kv::check_delete_request(erase); !checked) {
    reactor->Finish(concurrency_error(checked));
    return reactor;
  }
  header_.engine().client().async_delete_range(
      std::move(erase), [this, reactor, response](Result<DeleteRangeResponse> deleted) {
        if (!deleted) return reactor->Finish(concurrency_error(deleted.status()));
        response->mutable_header()->set_revision(deleted->revision);
        header_.fill(response->mutable_header());
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

}  // namespace dengine::api

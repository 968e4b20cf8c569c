#include "runtime/engine_kv_backend.h"

#include "kv/command_codec.h"

namespace dengine::runtime {
namespace {

kv::KvCommand to_command(KvWrite request) {
  return std::visit([](auto&& write) -> kv::KvCommand { return std::move(write); },
                    std::move(request));
}

}  // namespace

void EngineKvBackend::submit_write(KvWrite request, UniqueFunction<void(Result<KvResponse>)> done) {
  // Bounds are checked before the log: an oversized request never becomes an entry.
  Result<std::string> command = kv::encode_command(to_command(std::move(request)));
  if (!command) return done(command.status());
  runtime_.propose(std::move(*command),
                   [done = std::move(done)](Result<ApplyResult> applied) mutable {
                     if (!applied) return done(applied.status());
                     // The command's own outcome (etcd's errors) comes with a committed entry.
                     if (!applied->status) return done(std::move(applied->status));
                     done(std::move(applied->response));
                   });
}

template <typename Response, typename ReadFn>
void EngineKvBackend::submit_read(Read consistency, ReadFn read,
                                  UniqueFunction<void(Result<Response>)> done) {
  if (consistency == Read::Eventual) {
    return done(runtime_.read_local([&](const StateMachine& machine) { return read(machine); }));
  }
  const ReadMode mode = consistency == Read::Lease ? ReadMode::kLease : ReadMode::kReadIndex;
  runtime_.read(mode, [read = std::move(read),
                       done = std::move(done)](Result<const StateMachine*> machine) mutable {
    if (!machine) return done(machine.status());
    done(read(**machine));
  });
}

template <typename Response, typename ReadFn>
Result<Response> EngineKvBackend::read_here(Read consistency, ReadFn read) {
  if (consistency == Read::Eventual) {
    return runtime_.read_local([&](const StateMachine& machine) { return read(machine); });
  }
  detail::Blocking<Index> confirmed;
  runtime_.confirm_read(consistency == Read::Lease ? ReadMode::kLease : ReadMode::kReadIndex,
                        confirmed.completion());
  Result<Index> index = confirmed.wait();
  if (!index) return index.status();
  return runtime_.read_at<Response>(*index, std::move(read));
}

void EngineKvBackend::submit_range(RangeRequest request, Read consistency,
                                   UniqueFunction<void(Result<RangeResponse>)> done) {
  submit_read<RangeResponse>(
      consistency,
      [request = std::move(request)](const StateMachine& machine) {
        return machine.range(request);
      },
      std::move(done));
}

void EngineKvBackend::submit_read_txn(TxnRequest request, Read consistency,
                                      UniqueFunction<void(Result<TxnResponse>)> done) {
  submit_read<TxnResponse>(
      consistency,
      [request = std::move(request)](const StateMachine& machine) {
        return machine.read_only_txn(request);
      },
      std::move(done));
}

Result<RangeResponse> EngineKvBackend::range(RangeRequest request, Read consistency) {
  return read_here<RangeResponse>(
      consistency, [&request](const StateMachine& machine) { return machine.range(request); });
}

Result<TxnResponse> EngineKvBackend::read_txn(TxnRequest request, Read consistency) {
  return read_here<TxnResponse>(consistency, [&request](const StateMachine& machine) {
    return machine.read_only_txn(request);
  });
}

void EngineKvBackend::submit_lease_renew(
    LeaseId id, UniqueFunction<void(Result<LeaseKeepAliveResponse>)> done) {
  runtime_.renew_lease(id, [id, done = std::move(done)](Result<LeaseTimeLeft> renewed) mutable {
    if (!renewed) return done(renewed.status());
    done(LeaseKeepAliveResponse{id, renewed->granted_ttl_seconds});
  });
}

void EngineKvBackend::submit_lease_time_to_live(
    LeaseId id, bool with_keys, UniqueFunction<void(Result<LeaseTimeToLiveResponse>)> done) {
  runtime_.lease_time_left(
      id, [this, id, with_keys, done = std::move(done)](Result<LeaseTimeLeft> left) mutable {
        if (!left) return done(left.status());
        LeaseTimeToLiveResponse response{.id = id,
                                         .ttl_seconds = left->ttl_seconds,
                                         .granted_ttl_seconds = left->granted_ttl_seconds,
                                         .keys = {}};
        if (with_keys) {
          std::optional<LeaseInfo> info = runtime_.read_local(
              [id](const StateMachine& machine) { return machine.lease(id, /*with_keys=*/true); });
          // Revoked between the two looks: as if it had been a moment earlier.
          if (!info) return done(Status::of(ErrorDetail::kLeaseNotFound));
          response.keys = std::move(info->keys);
        }
        done(std::move(response));
      });
}

Result<std::vector<LeaseInfo>> EngineKvBackend::lease_list() {
  return runtime_.read_local([](const StateMachine& machine) { return machine.leases(); });
}

std::shared_ptr<detail::KeepAliveTicket> EngineKvBackend::start_keep_alive(LeaseId id) {
  auto ticket = std::make_shared<KeepAliveTicketImpl>(id);
  runtime_.keep_alive(ticket);
  return ticket;
}

std::shared_ptr<detail::WatchChannel> EngineKvBackend::open_watch(std::string key,
                                                                  std::string range_end,
                                                                  WatchOptions options) {
  if (options.start_revision <= 0) {
    // "From now" is from this call, not from whenever the apply worker registers the watch:
    // changes applied in between come from history.
    options.start_revision = runtime_.read_local([](const StateMachine& machine) {
      return machine.current_revision();
    }) + 1;
  }
  return runtime_.watch_hub().open(
      WatchSpec{.key = std::move(key), .range_end = std::move(range_end), .options = options});
}

}  // namespace dengine::runtime

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

}  // namespace dengine::runtime

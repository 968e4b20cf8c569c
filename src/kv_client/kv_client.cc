#include "dengine/kv_client.h"

namespace dengine {

void KvClient::submit_put(detail::KvBackend& backend, PutRequest request, std::chrono::seconds ttl,
                          UniqueFunction<void(Result<PutResponse>)> done) {
  auto put = [&backend](PutRequest put_request, UniqueFunction<void(Result<PutResponse>)> answer) {
    backend.submit_write(std::move(put_request),
                         [answer = std::move(answer)](Result<KvResponse> result) mutable {
                           answer(detail::response_as<PutResponse>(std::move(result)));
                         });
  };
  if (ttl.count() == 0) return put(std::move(request), std::move(done));
  if (ttl.count() < 0) return done(Status::invalid_argument("put: ttl must not be negative"));
  if (request.lease != kNoLease) {
    return done(Status::invalid_argument("put: give either a lease or a ttl, not both"));
  }
  backend.submit_write(
      LeaseGrantRequest{kNoLease, ttl.count()},
      [&backend, put, request = std::move(request),
       done = std::move(done)](Result<KvResponse> granted) mutable {
        Result<LeaseGrantResponse> lease =
            detail::response_as<LeaseGrantResponse>(std::move(granted));
        if (!lease) return done(lease.status());
        request.lease = lease->id;
        const LeaseId id = lease->id;
        put(std::move(request),
            [&backend, id, done = std::move(done)](Result<PutResponse> written) mutable {
              // A lease nobody will use would only wait out its TTL.
              if (!written) backend.submit_write(LeaseRevokeRequest{id}, [](Result<KvResponse>) {});
              done(std::move(written));
            });
      });
}

Result<PutResponse> KvClient::put(std::string key, std::string value, PutOptions options) {
  detail::Blocking<PutResponse> blocking;
  submit_put(*backend_, put_request(std::move(key), std::move(value), options), options.ttl,
             blocking.completion());
  return blocking.wait();
}

Result<std::optional<KeyValue>> KvClient::get(std::string key, GetOptions options) {
  return first_kv(
      range(get_request(std::move(key), options), {.consistency = options.consistency}));
}

Result<std::optional<KeyValue>> KvClient::first_kv(Result<RangeResponse> response) {
  if (!response) return response.status();
  if (response->kvs.empty()) return std::optional<KeyValue>();
  return std::optional<KeyValue>(std::move(response->kvs.front()));
}

Result<TxnResponse> KvClient::txn(TxnRequest request, ReadOptions options) {
  if (is_read_only(request)) {
    return backend_->read_txn(std::move(request), options.consistency);
  }
  return wait_write<TxnResponse>(std::move(request));
}

TxnRequest KvClient::cas_request(std::string key, std::optional<std::string> expected,
                                 std::string desired) {
  Compare compare;
  compare.key = key;
  if (expected) {
    compare.target = CompareTarget::kValue;
    compare.value = std::move(*expected);
  } else {
    compare.target = CompareTarget::kCreate;  // create_revision 0: the key does not exist
    compare.create_revision = 0;
  }
  PutRequest put;
  put.key = std::move(key);
  put.value = std::move(desired);
  TxnRequest request;
  request.compare.push_back(std::move(compare));
  request.success.push_back(RequestOp{std::move(put)});
  return request;
}

Result<bool> KvClient::swapped(Result<KvResponse> result) {
  Result<TxnResponse> response = detail::response_as<TxnResponse>(std::move(result));
  if (!response) return response.status();
  return response->succeeded;
}

Result<bool> KvClient::compare_and_swap(std::string key, std::optional<std::string> expected,
                                        std::string desired) {
  detail::Blocking<KvResponse> blocking;
  backend_->submit_write(cas_request(std::move(key), std::move(expected), std::move(desired)),
                         blocking.completion());
  return swapped(blocking.wait());
}

}  // namespace dengine

#include "dengine/kv_client.h"

namespace dengine {

Result<std::optional<KeyValue>> KvClient::get(std::string key, GetOptions options) {
  RangeRequest request;
  request.key = std::move(key);
  request.revision = options.revision;
  Result<RangeResponse> response = range(std::move(request), {.consistency = options.consistency});
  if (!response) return response.status();
  if (response->kvs.empty()) return std::optional<KeyValue>();
  return std::optional<KeyValue>(std::move(response->kvs.front()));
}

Result<TxnResponse> KvClient::txn(TxnRequest request, ReadOptions options) {
  if (is_read_only(request)) {
    detail::Blocking<TxnResponse> blocking;
    backend_->submit_read_txn(std::move(request), options.consistency, blocking.completion());
    return blocking.wait();
  }
  return wait_write<TxnResponse>(std::move(request));
}

Result<bool> KvClient::compare_and_swap(std::string key, std::optional<std::string> expected,
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
  Result<TxnResponse> response = wait_write<TxnResponse>(std::move(request));
  if (!response) return response.status();
  return response->succeeded;
}

}  // namespace dengine

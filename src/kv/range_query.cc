#include "kv/range_query.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace dengine::kv {
namespace {

bool needs_every_key(const RangeRequest& r) {
  return r.sort_order != SortOrder::kNone || r.min_mod_revision != 0 || r.max_mod_revision != 0 ||
         r.min_create_revision != 0 || r.max_create_revision != 0;
}

bool excluded_by_filters(const RangeRequest& r, const KeyValue& kv) {
  return (r.max_mod_revision != 0 && kv.mod_revision > r.max_mod_revision) ||
         (r.min_mod_revision != 0 && kv.mod_revision < r.min_mod_revision) ||
         (r.max_create_revision != 0 && kv.create_revision > r.max_create_revision) ||
         (r.min_create_revision != 0 && kv.create_revision < r.min_create_revision);
}

std::function<bool(const KeyValue&, const KeyValue&)> less_by(SortTarget target) {
  switch (target) {
    case SortTarget::kKey:
      return [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; };
    case SortTarget::kVersion:
      return [](const KeyValue& a, const KeyValue& b) { return a.version < b.version; };
    case SortTarget::kCreate:
      return [](const KeyValue& a, const KeyValue& b) {
        return a.create_revision < b.create_revision;
      };
    case SortTarget::kMod:
      return [](const KeyValue& a, const KeyValue& b) { return a.mod_revision < b.mod_revision; };
    case SortTarget::kValue:
      return [](const KeyValue& a, const KeyValue& b) { return a.value < b.value; };
  }
  return [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; };
}

}  // namespace

Result<RangeResponse> execute_range(const MvccReader& reader, const RangeRequest& request) {
  RawRangeOptions options;
  options.revision = request.revision;
  options.count_only = request.count_only;
  // Sorting and filtering need every key; otherwise one more than the limit tells `more`.
  if (!needs_every_key(request) && request.limit > 0) options.limit = request.limit + 1;

  Result<RawRange> raw = reader.range(KeySpan::of(request.key, request.range_end), options);
  if (!raw) return raw.status();

  RangeResponse response;
  response.revision = raw->revision;
  response.count = raw->count;
  std::vector<KeyValue>& kvs = raw->kvs;
  std::erase_if(kvs, [&](const KeyValue& kv) { return excluded_by_filters(request, kv); });

  // etcd sorts ascending by default for any target but the key, which is already in order.
  SortOrder order = request.sort_order;
  if (order == SortOrder::kNone && request.sort_target != SortTarget::kKey) {
    order = SortOrder::kAscend;
  }
  // Stable, so ties keep key order in either direction; etcd's sort.Sort is not stable in
  // general but is for the small results (<= 12 keys) where ties were checked against it.
  if (order != SortOrder::kNone) {
    auto less = less_by(request.sort_target);
    if (order == SortOrder::kAscend) {
      std::stable_sort(kvs.begin(), kvs.end(), less);
    } else {
      std::stable_sort(kvs.begin(), kvs.end(),
                       [&](const KeyValue& a, const KeyValue& b) { return less(b, a); });
    }
  }
  if (request.limit > 0 && kvs.size() > static_cast<uint64_t>(request.limit)) {
    kvs.resize(static_cast<size_t>(request.limit));
    response.more = true;
  }
  if (request.keys_only) {
    for (KeyValue& kv : kvs) kv.value.clear();
  }
  response.kvs = std::move(kvs);
  return response;
}

}  // namespace dengine::kv

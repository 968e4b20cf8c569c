#pragma once

#include "dengine/kv_types.h"
#include "dengine/status.h"
#include "kv/mvcc_store.h"

namespace dengine::kv {

// etcd's Range (etcdserver/apply.go): read the span at the requested revision, drop what the
// min/max revision filters exclude, sort, cut at the limit (setting `more`), strip values for
// keys_only. `count` is the span's size before filters and limit, as in etcd. The request is
// assumed checked (check_range_request).
Result<RangeResponse> execute_range(const MvccReader& reader, const RangeRequest& request);

}  // namespace dengine::kv

#pragma once

#include <compare>
#include <cstdint>

namespace dengine::kv {

// A position in the store's history (etcd's mvcc revision): `main` is the store revision of a
// write (one per put, delete or txn), `sub` orders the individual changes within it.
struct Revision {
  int64_t main = 0;
  int64_t sub = 0;

  friend auto operator<=>(const Revision&, const Revision&) = default;
};

}  // namespace dengine::kv

#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>

namespace dengine::kv {

// A position in the store's history (etcd's mvcc revision): `main` is the store revision of a
// write (one per put, delete or txn), `sub` orders the individual changes within it.
struct Revision {
  int64_t main = 0;
  int64_t sub = 0;

  friend auto operator<=>(const Revision&, const Revision&) = default;
};

// For hash maps keyed by revision (point lookups of records).
struct RevisionHash {
  size_t operator()(const Revision& r) const noexcept {
    // main is dense and sub almost always 0: mixing both keeps buckets apart.
    return static_cast<size_t>(static_cast<uint64_t>(r.main) * 0x9e3779b97f4a7c15ULL ^
                               static_cast<uint64_t>(r.sub));
  }
};

}  // namespace dengine::kv

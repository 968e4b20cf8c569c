#pragma once

// A hash index for point lookups into a container whose nodes never move (a std::map): keys
// and values are views of and pointers into those nodes, which the owner keeps alive while
// they are indexed, and re-indexes after a copy.
//
// Why not std::unordered_map: a get is bound by dependent cache misses, and libstdc++'s table
// costs three before the key is even compared (the bucket, the node before the bucket's first,
// that node). Open addressing with linear probing costs one: the slot holds the hash, the key
// and the value pointer, and a probe's neighbours share its cache line.

#include <algorithm>
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include "common/check.h"

namespace dengine::kv {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class PointIndex {
 public:
  PointIndex() = default;
  // A copy would point into the original's nodes: the owner re-indexes its own copy instead.
  PointIndex(const PointIndex&) = delete;
  PointIndex& operator=(const PointIndex&) = delete;
  PointIndex(PointIndex&&) noexcept = default;
  PointIndex& operator=(PointIndex&&) noexcept = default;
  ~PointIndex() = default;

  [[nodiscard]] Value* find(const Key& key) const {
    if (slots_.empty()) return nullptr;
    const size_t hash = Hash{}(key);
    for (size_t i = hash & mask();; i = (i + 1) & mask()) {
      const Slot& slot = slots_[i];
      if (slot.value == nullptr) return nullptr;
      if (slot.hash == hash && slot.key == key) return slot.value;
    }
  }

  // Precondition: `key` is not indexed yet.
  void insert(const Key& key, Value* value) {
    DENGINE_CHECK(value != nullptr);
    if ((size_ + 1) * kMaxLoadDenominator > slots_.size() * kMaxLoadNumerator) {
      rehash(std::max<size_t>(kMinSlots, slots_.size() * 2));
    }
    place(Slot{Hash{}(key), key, value});
    ++size_;
  }

  void erase(const Key& key) {
    if (slots_.empty()) return;
    const size_t hash = Hash{}(key);
    size_t hole = hash & mask();
    while (true) {
      const Slot& slot = slots_[hole];
      if (slot.value == nullptr) return;
      if (slot.hash == hash && slot.key == key) break;
      hole = (hole + 1) & mask();
    }
    // Backward-shift deletion (no tombstones): a later slot of the same run moves into the
    // hole when the hole lies on its probe path, i.e. between its home slot and itself.
    for (size_t i = (hole + 1) & mask(); slots_[i].value != nullptr; i = (i + 1) & mask()) {
      const size_t home = slots_[i].hash & mask();
      if (((i - home) & mask()) >= ((i - hole) & mask())) {
        slots_[hole] = slots_[i];
        hole = i;
      }
    }
    slots_[hole] = Slot{};
    --size_;
  }

  void clear() {
    slots_.clear();
    size_ = 0;
  }
  // Room for `count` keys without rehashing.
  void reserve(size_t count) {
    size_t slots = kMinSlots;
    while (count * kMaxLoadDenominator > slots * kMaxLoadNumerator) slots *= 2;
    if (slots > slots_.size()) rehash(slots);
  }
  [[nodiscard]] size_t size() const { return size_; }

 private:
  struct Slot {
    size_t hash = 0;
    Key key{};
    Value* value = nullptr;  // nullptr: the slot is free
  };
  // At most 3/4 full, so probe runs stay short; a power of two of slots, so a mask finds one.
  static constexpr size_t kMaxLoadNumerator = 3;
  static constexpr size_t kMaxLoadDenominator = 4;
  static constexpr size_t kMinSlots = 16;

  [[nodiscard]] size_t mask() const { return slots_.size() - 1; }

  void place(const Slot& slot) {
    size_t i = slot.hash & mask();
    while (slots_[i].value != nullptr) i = (i + 1) & mask();
    slots_[i] = slot;
  }

  void rehash(size_t slot_count) {
    std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(slot_count));
    for (const Slot& slot : old) {
      if (slot.value != nullptr) place(slot);
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace dengine::kv

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dengine::sim {

enum class Fault : uint32_t {
  kLoss = 1U << 0,
  kDelay = 1U << 1,
  kReorder = 1U << 2,
  kDuplicate = 1U << 3,
  kPartition = 1U << 4,        // symmetric: a random split, both directions cut
  kOneWayPartition = 1U << 5,  // some links cut in one direction only
  kClog = 1U << 6,             // a node's links hold every message until unclogged
  kCrash = 1U << 7,            // crash (losing unsynced writes) and restart later
  kSlowDisk = 1U << 8,
  kPause = 1U << 9,        // a node freezes (SIGSTOP-like); its monotonic clock jumps on resume
  kDrift = 1U << 10,       // node clocks (and so tick rates) run up to ±5% apart
  kTransfer = 1U << 11,    // the leader is asked to hand leadership to another node
  kMembership = 1U << 12,  // the leader is asked to add, remove or promote nodes
};

inline constexpr uint32_t kAllFaults = (1U << 13) - 1;

class FaultSet {
 public:
  constexpr FaultSet() = default;
  constexpr explicit FaultSet(uint32_t bits) : bits_(bits) {}
  static FaultSet all() { return FaultSet(kAllFaults); }
  // "loss,delay,partition" or "all" or "none"; nullopt names an unknown fault.
  static std::optional<FaultSet> parse(std::string_view text, std::string* unknown);

  [[nodiscard]] bool has(Fault fault) const { return (bits_ & static_cast<uint32_t>(fault)) != 0; }
  [[nodiscard]] bool empty() const { return bits_ == 0; }
  [[nodiscard]] std::string to_string() const;

 private:
  uint32_t bits_ = 0;
};

std::string_view fault_name(Fault fault);

}  // namespace dengine::sim

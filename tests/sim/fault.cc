#include "tests/sim/fault.h"

#include <array>

namespace dengine::sim {
namespace {

constexpr std::array<Fault, 13> kFaults = {
    Fault::kLoss,      Fault::kDelay,           Fault::kReorder, Fault::kDuplicate,
    Fault::kPartition, Fault::kOneWayPartition, Fault::kClog,    Fault::kCrash,
    Fault::kSlowDisk,  Fault::kPause,           Fault::kDrift,   Fault::kTransfer,
    Fault::kMembership};

}  // namespace

std::string_view fault_name(Fault fault) {
  switch (fault) {
    case Fault::kLoss: return "loss";
    case Fault::kDelay: return "delay";
    case Fault::kReorder: return "reorder";
    case Fault::kDuplicate: return "dup";
    case Fault::kPartition: return "partition";
    case Fault::kOneWayPartition: return "oneway";
    case Fault::kClog: return "clog";
    case Fault::kCrash: return "crash";
    case Fault::kSlowDisk: return "slowdisk";
    case Fault::kPause: return "pause";
    case Fault::kDrift: return "drift";
    case Fault::kTransfer: return "transfer";
    case Fault::kMembership: return "membership";
  }
  return "?";
}

std::optional<FaultSet> FaultSet::parse(std::string_view text, std::string* unknown) {
  if (text == "all") return FaultSet::all();
  if (text == "none" || text.empty()) return FaultSet();
  uint32_t bits = 0;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view word = text.substr(0, comma);
    bool found = false;
    for (Fault fault : kFaults) {
      if (fault_name(fault) == word) {
        bits |= static_cast<uint32_t>(fault);
        found = true;
      }
    }
    if (!found) {
      if (unknown != nullptr) *unknown = std::string(word);
      return std::nullopt;
    }
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return FaultSet(bits);
}

std::string FaultSet::to_string() const {
  if (bits_ == kAllFaults) return "all";
  std::string out;
  for (Fault fault : kFaults) {
    if (!has(fault)) continue;
    if (!out.empty()) out += ',';
    out += fault_name(fault);
  }
  return out.empty() ? "none" : out;
}

}  // namespace dengine::sim

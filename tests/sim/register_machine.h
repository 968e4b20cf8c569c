#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "tests/sim/linearizability.h"

namespace dengine::sim {

// A client command as it travels through the Raft log: the simulator's replicated state
// machine is a map of integer registers, enough to expose lost writes and stale reads.
struct Command {
  OpKind kind = OpKind::kGet;
  uint32_t key = 0;
  int64_t value = 0;
  int64_t expected = 0;
  uint64_t op_uid = 0;  // identifies the client operation, to match applies to requests
};

std::string encode_command(const Command& command);
std::optional<Command> decode_command(const std::string& data);

struct CommandResult {
  bool cas_succeeded = false;
  int64_t read_value = kAbsent;
};

class RegisterMachine {
 public:
  RegisterMachine() = default;
  explicit RegisterMachine(std::map<uint32_t, int64_t> registers)
      : registers_(std::move(registers)) {}

  CommandResult apply(const Command& command);
  [[nodiscard]] const std::map<uint32_t, int64_t>& registers() const { return registers_; }

 private:
  std::map<uint32_t, int64_t> registers_;
};

}  // namespace dengine::sim

#include "tests/sim/register_machine.h"

#include <cstring>

namespace dengine::sim {
namespace {

constexpr uint8_t kFormatVersion = 1;
constexpr size_t kEncodedSize = 1 + 1 + 4 + 8 + 8 + 8;

template <typename T>
void put_raw(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
T get_raw(const char*& cursor) {
  T value;
  std::memcpy(&value, cursor, sizeof(T));
  cursor += sizeof(T);
  return value;
}

}  // namespace

std::string encode_command(const Command& command) {
  std::string out;
  out.reserve(kEncodedSize);
  out.push_back(static_cast<char>(kFormatVersion));
  out.push_back(static_cast<char>(command.kind));
  put_raw(out, command.key);
  put_raw(out, command.value);
  put_raw(out, command.expected);
  put_raw(out, command.op_uid);
  return out;
}

std::optional<Command> decode_command(const std::string& data) {
  if (data.size() != kEncodedSize || static_cast<uint8_t>(data[0]) != kFormatVersion) {
    return std::nullopt;
  }
  const char* cursor = data.data() + 1;
  Command command;
  command.kind = static_cast<OpKind>(get_raw<uint8_t>(cursor));
  command.key = get_raw<uint32_t>(cursor);
  command.value = get_raw<int64_t>(cursor);
  command.expected = get_raw<int64_t>(cursor);
  command.op_uid = get_raw<uint64_t>(cursor);
  return command;
}

CommandResult RegisterMachine::apply(const Command& command) {
  CommandResult result;
  auto it = registers_.find(command.key);
  const int64_t current = it == registers_.end() ? kAbsent : it->second;
  switch (command.kind) {
    case OpKind::kPut: registers_[command.key] = command.value; break;
    case OpKind::kCas:
      result.cas_succeeded = current == command.expected;
      if (result.cas_succeeded) registers_[command.key] = command.value;
      break;
    case OpKind::kGet: result.read_value = current; break;
  }
  return result;
}

}  // namespace dengine::sim

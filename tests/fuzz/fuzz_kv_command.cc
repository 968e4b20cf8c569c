// libFuzzer target: decoding the replicated command (what a Raft entry's data holds for the
// KV state machine). Any bytes decode to a command or to an error, never to a crash; a command
// that decodes re-encodes, and that encoding decodes to the same command.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "kv/command_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dengine;  // NOLINT(google-build-using-namespace)
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Result<kv::KvCommand> decoded = kv::decode_command(input);
  if (!decoded) {
    DENGINE_CHECK(!decoded.status().message().empty());
    return 0;
  }
  Result<std::string> encoded = kv::encode_command(*decoded);
  DENGINE_CHECK_MSG(encoded.has_value(), encoded.status().to_string());
  Result<kv::KvCommand> again = kv::decode_command(*encoded);
  DENGINE_CHECK_MSG(again.has_value(), again.status().to_string());
  DENGINE_CHECK(*again == *decoded);
  return 0;
}

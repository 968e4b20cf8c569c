# Every dependency comes from Debian 12's packages (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)

if(DENGINE_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()

if(DENGINE_WITH_ROCKSDB)
  # Rooms link RocksDB::rocksdb, Debian's static archive: the shared library's load-time
  # relocations alone keep ~7 MB resident in every process that loads it (an idle engine is
  # ~3 MB). lld links only the objects used, in about a second per binary. The rooms also
  # define DENGINE_WITH_ROCKSDB=1 publicly.
  find_package(RocksDB CONFIG REQUIRED)
endif()

if(NOT DENGINE_CORE_ONLY)
  if(DENGINE_BUILD_BENCHES AND NOT DENGINE_SANITIZE)
    find_package(benchmark CONFIG REQUIRED)
  endif()
  find_package(spdlog CONFIG REQUIRED)
  # FindProtobuf module: Debian's protobuf ships no CMake config.
  find_package(Protobuf REQUIRED)
  # gRPC's config needs /usr/bin/grpc_*_plugin (package protobuf-compiler-grpc).
  find_package(gRPC CONFIG REQUIRED)

endif()

# The runtime (every tree, the sanitizer ones included) needs these two header-only libraries.
if(NOT DENGINE_BUILD_FUZZERS)
  # Standalone Asio is header-only and ships no CMake config.
  find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
  add_library(dengine_asio INTERFACE)
  target_include_directories(dengine_asio SYSTEM INTERFACE "${ASIO_INCLUDE_DIR}")
  # ASIO_DISABLE_STD_ALIGNED_ALLOC: Asio 1.22 picks aligned_alloc or operator new per translation
  # unit, depending on whether a standard header came before it; mixing the two is an ODR
  # violation that ASan reports as alloc-dealloc-mismatch. One choice everywhere.
  target_compile_definitions(dengine_asio INTERFACE
    ASIO_STANDALONE ASIO_NO_DEPRECATED ASIO_DISABLE_STD_ALIGNED_ALLOC)
  target_link_libraries(dengine_asio INTERFACE Threads::Threads)

  find_path(CONCURRENTQUEUE_INCLUDE_DIR concurrentqueue/concurrentqueue.h REQUIRED)
  add_library(dengine_concurrentqueue INTERFACE)
  target_include_directories(dengine_concurrentqueue SYSTEM INTERFACE
    "${CONCURRENTQUEUE_INCLUDE_DIR}")
endif()

# ccache keyed on paths relative to the source tree, so a fresh CI clone at a new path still
# hits the cache (CCACHE_BASEDIR / CCACHE_NOHASHDIR are set by scripts/test.sh).
find_program(DENGINE_CCACHE ccache)
if(DENGINE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${DENGINE_CCACHE}")
endif()

# lld links in a fraction of ld.bfd's time, which matters for many test binaries on 2 cores.
find_program(DENGINE_LLD ld.lld)
if(DENGINE_LLD)
  add_link_options(-fuse-ld=lld)
endif()

add_library(dengine_warnings INTERFACE)
target_compile_options(dengine_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
if(DENGINE_WERROR)
  target_compile_options(dengine_warnings INTERFACE -Werror
    # g++ 12 at -O2 reports false positives from inlined standard and third-party headers.
    -Wno-error=restrict -Wno-error=array-bounds -Wno-error=stringop-overflow
    -Wno-error=maybe-uninitialized -Wno-error=dangling-pointer)
endif()

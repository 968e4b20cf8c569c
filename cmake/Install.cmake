include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_dengine_installed_targets dengine_common dengine_raft)
foreach(room_target dengine_log dengine_kv)
  if(TARGET ${room_target})
    list(APPEND _dengine_installed_targets ${room_target})
  endif()
endforeach()
install(TARGETS ${_dengine_installed_targets} EXPORT dengineTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/dengine DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT dengineTargets NAMESPACE dengine::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dengine)
configure_package_config_file(cmake/dengineConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/dengineConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dengine)
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/dengineConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/dengineConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/dengineConfigVersion.cmake"
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dengine)

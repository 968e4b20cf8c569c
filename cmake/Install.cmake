include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS dengine_common dengine_raft EXPORT dengineTargets
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

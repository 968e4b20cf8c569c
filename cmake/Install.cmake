# Install rules (not in core-only trees): the static libraries as dengine:: targets, the public
# headers, and the dengineConfig.cmake package. tests/install installs this tree into a temporary
# prefix and builds the README's quick start against it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_dengine_installed_targets dengine_common dengine_raft)
foreach(room_target dengine_kv_client dengine_log dengine_kv dengine)
  if(TARGET ${room_target})
    list(APPEND _dengine_installed_targets ${room_target})
  endif()
endforeach()
install(TARGETS ${_dengine_installed_targets} EXPORT dengineTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The networked member (dengine::cluster) and the static libraries under it, in an export set of
# their own: dengineConfig.cmake loads it, and looks for gRPC, protobuf, spdlog, yaml-cpp and
# OpenSSL, only when the component is asked for.
# The remote client (dengine::client) with the etcd protos and error table it shares with the
# cluster's etcd API: an export set of its own, which the cluster's needs too.
set(_dengine_client_targets dengine_client dengine_etcd_status dengine_etcd_proto)
install(TARGETS ${_dengine_client_targets} EXPORT dengineClientTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT dengineClientTargets NAMESPACE dengine::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dengine)
set(_dengine_cluster_targets dengine_cluster dengine_member_config dengine_api dengine_net
  dengine_tools dengine_raft_proto)
install(TARGETS ${_dengine_cluster_targets} EXPORT dengineClusterTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT dengineClusterTargets NAMESPACE dengine::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dengine)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/dengine"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT dengineTargets NAMESPACE dengine::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dengine)
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/dengineConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/dengineConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dengine)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/dengineConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/dengineConfig.cmake"
  "${PROJECT_BINARY_DIR}/dengineConfigVersion.cmake"
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dengine)

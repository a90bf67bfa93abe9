# What `cmake --install` puts under the prefix: bin/lineage; the job files and Slurm scripts
# (share/lineage/); and the libraries with their headers as the CMake package `lineage`, so another
# project can read checkpoints or reports with lineage's checked readers:
#   find_package(lineage REQUIRED)
#   target_link_libraries(tool PRIVATE lineage::checkpoint)   # or lineage::report, lineage::job, …
# Each library is exported under its folder's name (lineage_core -> lineage::core, lineage_architecture
# -> lineage::arch); the headers keep their paths ("checkpoint/checkpoint.hpp") under include/lineage.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(LINEAGE_EXPORTED_FOLDERS core checkpoint tokenizer shard arch plan h5 reduce report job registry mpi synth probe app)
set(LINEAGE_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/lineage)

install(TARGETS lineage RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set(lineage_exported_targets lineage_options)
foreach(folder IN LISTS LINEAGE_EXPORTED_FOLDERS)
  set(target lineage_${folder})
  if(folder STREQUAL "arch")
    set(target lineage_architecture)
  endif()
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${folder})
  add_library(lineage::${folder} ALIAS ${target})
  list(APPEND lineage_exported_targets ${target})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lineage/${folder}
          FILES_MATCHING PATTERN "*.hpp")
endforeach()
# lineage_options (warnings, no FP contraction) is linked privately; static libraries still name it.
set_target_properties(lineage_options PROPERTIES EXPORT_NAME options)
install(TARGETS ${lineage_exported_targets} EXPORT lineageTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lineage)
install(EXPORT lineageTargets NAMESPACE lineage:: DESTINATION ${LINEAGE_PACKAGE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/lineageConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/lineageConfig.cmake INSTALL_DESTINATION ${LINEAGE_PACKAGE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lineageConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/lineageConfig.cmake ${PROJECT_BINARY_DIR}/lineageConfigVersion.cmake
        DESTINATION ${LINEAGE_PACKAGE_DIR})

install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/lineage/configs)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/slurm/ DESTINATION ${CMAKE_INSTALL_DATADIR}/lineage/slurm USE_SOURCE_PERMISSIONS)

# Stamps the tool version and the git commit into core/version_info.cpp at every build, rewriting the
# file only when the stamp changes (so an unchanged tree does not relink).
set(LINEAGE_VERSION_CPP ${CMAKE_BINARY_DIR}/generated/version_info.cpp)
add_custom_target(lineage_version_stamp
  COMMAND ${CMAKE_COMMAND}
          -DSOURCE_DIR=${CMAKE_SOURCE_DIR}
          -DOUTPUT=${LINEAGE_VERSION_CPP}
          -DVERSION=${PROJECT_VERSION}
          -P ${CMAKE_SOURCE_DIR}/cmake/WriteVersionInfo.cmake
  BYPRODUCTS ${LINEAGE_VERSION_CPP}
  COMMENT "Stamping lineage version and git hash")

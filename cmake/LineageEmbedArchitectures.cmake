# The architecture rules are data (configs/architectures/*.yaml); they are also compiled into the
# binary so that a copied executable on a compute node still knows them. --arch-dir overrides.
file(GLOB LINEAGE_ARCH_YAML CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/configs/architectures/*.yaml)
list(SORT LINEAGE_ARCH_YAML)
set(LINEAGE_ARCH_CPP ${CMAKE_BINARY_DIR}/generated/embedded_architectures.cpp)
add_custom_command(
  OUTPUT ${LINEAGE_ARCH_CPP}
  COMMAND ${CMAKE_COMMAND} -DOUTPUT=${LINEAGE_ARCH_CPP} "-DFILES=${LINEAGE_ARCH_YAML}"
          -P ${CMAKE_SOURCE_DIR}/cmake/EmbedFiles.cmake
  DEPENDS ${LINEAGE_ARCH_YAML} ${CMAKE_SOURCE_DIR}/cmake/EmbedFiles.cmake
  COMMENT "Embedding configs/architectures/*.yaml"
  VERBATIM)
add_custom_target(lineage_embedded_architectures DEPENDS ${LINEAGE_ARCH_CPP})

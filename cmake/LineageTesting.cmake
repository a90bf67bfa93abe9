include(GoogleTest)

# Test programs' own sources compile at -O1: they call the libraries (built as configured) and
# mostly expand GoogleTest macros, which -O2 takes a third longer over (test_synth_derive.cpp:
# 6.7 s at -O1, 8.6 s at -O2 -g1).
function(lineage_test_compile_options name)
  target_compile_options(${name} PRIVATE $<$<CONFIG:Release,RelWithDebInfo>:-O1>)
endfunction()

# lineage_add_unit_test(NAME SOURCES a.cpp ... LIBRARIES lib ...)
# A single-process GoogleTest program; every TEST becomes its own ctest entry.
function(lineage_add_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBRARIES} GTest::gtest_main lineage_options)
  lineage_test_compile_options(${name})
  target_compile_definitions(${name} PRIVATE
    LINEAGE_SOURCE_DIR="${PROJECT_SOURCE_DIR}" LINEAGE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
  set_property(GLOBAL APPEND PROPERTY LINEAGE_UNIT_TEST_TARGETS ${name})
endfunction()

# lineage_add_mpi_test(NAME SOURCES a.cpp ... LIBRARIES lib ... RANKS 2 3)
# A GoogleTest program with the MPI main (tests/mpi/mpi_gtest_main.cpp), run once per rank count
# through mpiexec; ctest reserves that many processors.
function(lineage_add_mpi_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES;RANKS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/tests/mpi/mpi_gtest_main.cpp)
  target_link_libraries(${name} PRIVATE ${ARG_LIBRARIES} GTest::gtest MPI::MPI_CXX lineage_options)
  lineage_test_compile_options(${name})
  target_compile_definitions(${name} PRIVATE
    LINEAGE_SOURCE_DIR="${PROJECT_SOURCE_DIR}" LINEAGE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  foreach(ranks IN LISTS ARG_RANKS)
    add_test(NAME ${name}.ranks${ranks}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${ranks} ${MPIEXEC_PREFLAGS}
                     $<TARGET_FILE:${name}> ${MPIEXEC_POSTFLAGS})
    set_tests_properties(${name}.ranks${ranks} PROPERTIES PROCESSORS ${ranks} LABELS mpi TIMEOUT 300)
  endforeach()
endfunction()

# lineage_add_script_test(NAME COMMAND ... [LABELS ...] [TIMEOUT s])
# An end-to-end test driven by a script in tests/e2e/scenarios; the script gets the paths it needs
# through the environment (LINEAGE_BIN, MPIEXEC, MPIEXEC_PREFLAGS, PYTHON, LINEAGE_SOURCE_DIR).
function(lineage_add_script_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT;PROCESSORS" "COMMAND;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  if(NOT ARG_PROCESSORS)
    set(ARG_PROCESSORS 1)
  endif()
  add_test(NAME ${name} COMMAND ${ARG_COMMAND})
  string(REPLACE ";" " " preflags "${MPIEXEC_PREFLAGS}")
  set_tests_properties(${name} PROPERTIES
    LABELS "e2e;${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} PROCESSORS ${ARG_PROCESSORS}
    SKIP_RETURN_CODE 77
    ENVIRONMENT "LINEAGE_BIN=$<TARGET_FILE:lineage>;MPIEXEC=${MPIEXEC_EXECUTABLE};MPIEXEC_PREFLAGS=${preflags};PYTHON=${LINEAGE_PYTHON};LINEAGE_SOURCE_DIR=${PROJECT_SOURCE_DIR};LINEAGE_WORK_DIR=${PROJECT_BINARY_DIR}/e2e-work")
endfunction()

# Debian's python3-numpy / python3-h5py live under /usr/bin/python3; another python3 earlier on
# PATH may not see them.
if(EXISTS /usr/bin/python3)
  set(LINEAGE_PYTHON /usr/bin/python3)
else()
  find_program(LINEAGE_PYTHON python3 REQUIRED)
endif()

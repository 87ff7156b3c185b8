# cmake --install <build> --prefix <p>: the public API headers, libattnc.so
# and the CMake package <p>/lib/cmake/attnc (find_package(attnc CONFIG) ->
# attnc::attnc). examples/host builds against it out of tree
# (.ci/install-check).
include(CMakePackageConfigHelpers)

# The headers the public API includes, transitively; plain C++ (and cuda.h
# for CudaDriver.h). .ci/install-check compiles examples/host against only
# the installed include directory, so a missing one fails CI.
set(_inc ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES
  ${ATTNC_SOURCE_DIR}/compiler/include/attnc/attnc.h
  ${ATTNC_SOURCE_DIR}/compiler/include/attnc/Options.h
  ${ATTNC_SOURCE_DIR}/compiler/include/attnc/Check.h
  ${ATTNC_SOURCE_DIR}/compiler/include/attnc/Reference.h
  ${ATTNC_SOURCE_DIR}/runtime/include/attnc/Status.h
  ${ATTNC_SOURCE_DIR}/runtime/include/attnc/CudaDriver.h
  ${ATTNC_SOURCE_DIR}/runtime/include/attnc/Npy.h
  DESTINATION ${_inc}/attnc)
install(FILES ${ATTNC_SOURCE_DIR}/codegen/include/attnc/Codegen/KernelInfo.h
  DESTINATION ${_inc}/attnc/Codegen)
install(FILES ${ATTNC_SOURCE_DIR}/dialects/include/attn/Model/TileRequest.h
  DESTINATION ${_inc}/attn/Model)
install(FILES
  ${ATTNC_SOURCE_DIR}/dialects/include/attn/Kernel/Defs.h
  ${ATTNC_SOURCE_DIR}/dialects/include/attn/Kernel/Masks.h
  ${ATTNC_SOURCE_DIR}/dialects/include/attn/Kernel/Philox.h
  DESTINATION ${_inc}/attn/Kernel)

if(ATTNC_BUILD_SHARED)
  set_target_properties(attnc_shared PROPERTIES EXPORT_NAME attnc)
  install(TARGETS attnc_shared EXPORT attncTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${_inc})
  set(_pkg ${CMAKE_INSTALL_LIBDIR}/cmake/attnc)
  install(EXPORT attncTargets NAMESPACE attnc:: DESTINATION ${_pkg})
  configure_package_config_file(${ATTNC_SOURCE_DIR}/cmake/attncConfig.cmake.in
    ${ATTNC_BINARY_DIR}/attncConfig.cmake INSTALL_DESTINATION ${_pkg})
  write_basic_package_version_file(${ATTNC_BINARY_DIR}/attncConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
  install(FILES ${ATTNC_BINARY_DIR}/attncConfig.cmake
    ${ATTNC_BINARY_DIR}/attncConfigVersion.cmake DESTINATION ${_pkg})
endif()

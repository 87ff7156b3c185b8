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
  ${ATTNC_SOURCE_DIR}/compiler/include/attnc/HostTable.h
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
  ${ATTNC_SOURCE_DIR}/dialects/include/attn/Kernel/Tables.h
  DESTINATION ${_inc}/attn/Kernel)

set(_pkg ${CMAKE_INSTALL_LIBDIR}/cmake/attnc)
configure_package_config_file(${ATTNC_SOURCE_DIR}/cmake/attncConfig.cmake.in
  ${ATTNC_BINARY_DIR}/attncConfig.cmake INSTALL_DESTINATION ${_pkg}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${ATTNC_BINARY_DIR}/attncConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${ATTNC_BINARY_DIR}/attncConfig.cmake
  ${ATTNC_BINARY_DIR}/attncConfigVersion.cmake DESTINATION ${_pkg})
if(ATTNC_BUILD_SHARED)
  set_target_properties(attnc_shared PROPERTIES EXPORT_NAME attnc)
  install(TARGETS attnc_shared EXPORT attncTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${_inc})
  install(EXPORT attncTargets NAMESPACE attnc:: DESTINATION ${_pkg})
endif()

# libattnc_bundle.a: attnc_lib and every static archive it links (front end,
# passes, codegen, runtime, MLIR, LLVM) merged into one archive with an
# `ar -M` script, for programs that want no shared attnc. Its users link
# NVRTC, libz, libdl and pthread. Installed as lib/libattnc.a, the package's
# attnc::attnc_static.
function(_attnc_collect_archives tgt out)
  set(seen ${${out}})
  list(FIND seen "${tgt}" _i)
  if(NOT _i EQUAL -1)
    return()
  endif()
  list(APPEND seen "${tgt}")
  get_target_property(_type ${tgt} TYPE)
  if(_type STREQUAL "STATIC_LIBRARY")
    list(APPEND seen "$<TARGET_FILE:${tgt}>")
  endif()
  set(_deps)
  foreach(_p LINK_LIBRARIES INTERFACE_LINK_LIBRARIES)
    get_target_property(_d ${tgt} ${_p})
    if(_d)
      list(APPEND _deps ${_d})
    endif()
  endforeach()
  foreach(_d IN LISTS _deps)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" _d "${_d}")
    if(TARGET ${_d})
      _attnc_collect_archives(${_d} seen)
    elseif(_d MATCHES "\\.a$")
      list(APPEND seen "${_d}")
    endif()
  endforeach()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()
set(_bundle_items)
_attnc_collect_archives(attnc_lib _bundle_items)
set(_mri "create ${ATTNC_BINARY_DIR}/lib/libattnc_bundle.a\n")
set(_bundle_deps)
foreach(_it IN LISTS _bundle_items)
  if(_it MATCHES "^\\$<TARGET_FILE:" OR _it MATCHES "\\.a$")
    string(APPEND _mri "addlib ${_it}\n")
    list(APPEND _bundle_deps "${_it}")
  endif()
endforeach()
string(APPEND _mri "save\nend\n")
file(GENERATE OUTPUT ${ATTNC_BINARY_DIR}/attnc_bundle.mri CONTENT "${_mri}")
add_custom_command(OUTPUT ${ATTNC_BINARY_DIR}/lib/libattnc_bundle.a
  COMMAND ${CMAKE_COMMAND} -E rm -f ${ATTNC_BINARY_DIR}/lib/libattnc_bundle.a
  COMMAND ${CMAKE_AR} -M < ${ATTNC_BINARY_DIR}/attnc_bundle.mri
  DEPENDS ${_bundle_deps} ${ATTNC_BINARY_DIR}/attnc_bundle.mri
  COMMENT "Merging attnc and MLIR/LLVM archives into libattnc_bundle.a")
add_custom_target(attnc_bundle ALL DEPENDS ${ATTNC_BINARY_DIR}/lib/libattnc_bundle.a)
install(FILES ${ATTNC_BINARY_DIR}/lib/libattnc_bundle.a
  DESTINATION ${CMAKE_INSTALL_LIBDIR} RENAME libattnc.a)

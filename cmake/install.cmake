# Install rules: the public headers, the library, a CMake package (find_package(mtcache),
# target mtcache::mtcache) and mtcache.pc. Included from the top-level CMakeLists.txt when
# MTCACHE_INSTALL is on.

include(CMakePackageConfigHelpers)

set(MTCACHE_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/mtcache")

# Public headers: every header outside a detail/ folder of the public folders. store/,
# redis/ and memcached/ are private as a whole. The umbrella header sits above the folders, as in the
# build tree's include/mtcache/.
install(DIRECTORY messages codec actors runtime
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mtcache"
  FILES_MATCHING PATTERN "*.hpp"
  PATTERN "detail" EXCLUDE
  PATTERN "mtcache.hpp" EXCLUDE)
install(FILES runtime/mtcache.hpp DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mtcache")

install(TARGETS mtcache EXPORT mtcacheTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(EXPORT mtcacheTargets
  NAMESPACE mtcache::
  DESTINATION "${MTCACHE_CMAKE_INSTALL_DIR}")

configure_package_config_file(cmake/mtcacheConfig.cmake.in
  "${PROJECT_BINARY_DIR}/mtcacheConfig.cmake"
  INSTALL_DESTINATION "${MTCACHE_CMAKE_INSTALL_DIR}")
# In 0.x every minor version may break the API (semantic versioning), so a request for 0.1
# accepts 0.1.x only. SameMajorVersion, as spdlog uses, would also accept 0.2, and fmt's
# AnyNewerVersion anything newer; both suit libraries past 1.0 only.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/mtcacheConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
# The config finds CAF and hiredis with our own modules: Debian ships no CMake config for
# CAF and only a variables-only one for hiredis.
install(FILES
  "${PROJECT_BINARY_DIR}/mtcacheConfig.cmake"
  "${PROJECT_BINARY_DIR}/mtcacheConfigVersion.cmake"
  cmake/FindCAF.cmake
  cmake/FindHiredis.cmake
  DESTINATION "${MTCACHE_CMAKE_INSTALL_DIR}")

# mtcache.pc. CAF has no .pc file, so its libraries are spelled out; hiredis and OpenSSL have
# theirs. A static libmtcache needs all of them on the consumer's link line, and plain
# `pkg-config --libs` leaves out Requires.private, so they are Requires there; a shared one
# carries them itself. The prefix is found relative to the .pc file, as the CMake package
# finds its own, so that `cmake --install --prefix` anywhere yields a working file.
get_target_property(_mtcache_type mtcache TYPE)
if(_mtcache_type STREQUAL "STATIC_LIBRARY")
  set(MTCACHE_PC_REQUIRES "Requires: hiredis openssl")
else()
  set(MTCACHE_PC_REQUIRES "Requires.private: hiredis openssl")
endif()
set(MTCACHE_PC_CAF_LIBS "-lcaf_openssl -lcaf_io -lcaf_core")
get_filename_component(_mtcache_caf_libdir "${CAF_core_LIBRARY}" DIRECTORY)
if(NOT _mtcache_caf_libdir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
  string(PREPEND MTCACHE_PC_CAF_LIBS "-L${_mtcache_caf_libdir} ")
endif()
set(MTCACHE_PC_CFLAGS "-I\${includedir}")
get_target_property(_mtcache_cereal_includes cereal::cereal INTERFACE_INCLUDE_DIRECTORIES)
foreach(dir IN LISTS CAF_INCLUDE_DIR _mtcache_cereal_includes)
  if(dir AND NOT dir IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
    string(APPEND MTCACHE_PC_CFLAGS " -I${dir}")
  endif()
endforeach()
foreach(dir INCLUDEDIR LIBDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(MTCACHE_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(MTCACHE_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
file(RELATIVE_PATH MTCACHE_PC_PREFIX_FROM_PCFILEDIR
  "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" MTCACHE_PC_PREFIX_FROM_PCFILEDIR
  "${MTCACHE_PC_PREFIX_FROM_PCFILEDIR}")
configure_file(cmake/mtcache.pc.in "${PROJECT_BINARY_DIR}/mtcache.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/mtcache.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

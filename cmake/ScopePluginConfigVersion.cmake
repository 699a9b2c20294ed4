# ScopePluginConfigVersion.cmake -- version check for find_package(ScopePlugin <version>).
#
# The package version is the ABI version of the header it ships, read from
# SCOPE_ABI_VERSION_MAJOR/MINOR. Compatibility follows the ABI rules: same major, and a minor at
# least the one requested (a plugin built against 1.0 loads in hosts speaking 1.x).

set(PACKAGE_VERSION "")
set(_scope_plugin_root "${CMAKE_CURRENT_LIST_DIR}")
foreach(_scope_plugin_level RANGE 1 4)
    get_filename_component(_scope_plugin_root "${_scope_plugin_root}" DIRECTORY)
    if(EXISTS "${_scope_plugin_root}/include/scope/plugin.h")
        file(STRINGS "${_scope_plugin_root}/include/scope/plugin.h" _scope_plugin_abi
             REGEX "^#define SCOPE_ABI_VERSION_(MAJOR|MINOR) [0-9]+")
        string(REGEX REPLACE ".*MAJOR ([0-9]+).*" "\\1" _scope_plugin_major "${_scope_plugin_abi}")
        string(REGEX REPLACE ".*MINOR ([0-9]+).*" "\\1" _scope_plugin_minor "${_scope_plugin_abi}")
        set(PACKAGE_VERSION "${_scope_plugin_major}.${_scope_plugin_minor}.0")
        break()
    endif()
endforeach()

if(NOT PACKAGE_VERSION)
    set(PACKAGE_VERSION "0.0.0")
    set(PACKAGE_VERSION_UNSUITABLE TRUE)
elseif(NOT PACKAGE_FIND_VERSION)
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
elseif(PACKAGE_FIND_VERSION_MAJOR STREQUAL _scope_plugin_major
       AND NOT PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION)
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
    if(PACKAGE_VERSION VERSION_EQUAL PACKAGE_FIND_VERSION)
        set(PACKAGE_VERSION_EXACT TRUE)
    endif()
else()
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
endif()

unset(_scope_plugin_root)
unset(_scope_plugin_level)
unset(_scope_plugin_abi)
unset(_scope_plugin_major)
unset(_scope_plugin_minor)

# ScopePluginConfig.cmake -- CMake package for Scope Native plugin authors.
#
#   find_package(ScopePlugin REQUIRED)
#   scope_add_plugin(invert SOURCES invert.c)
#
# Works in two layouts, found by walking up from this file to the first directory that holds
# include/scope/plugin.h:
#   - installed:      <prefix>/lib/cmake/ScopePlugin/  ->  <prefix>/include/scope/plugin.h
#   - from the repo:  <repo>/cmake/                    ->  <repo>/include/scope/plugin.h
#     (-DScopePlugin_DIR=<repo>/cmake or -DCMAKE_PREFIX_PATH=<repo>/cmake)
#
# Defines:
#   ScopePlugin::headers       INTERFACE target carrying the include directory
#   ScopePlugin_INCLUDE_DIR    directory that holds scope/plugin.h
#   ScopePlugin_ABI_VERSION    ABI version of that header, "MAJOR.MINOR"
#   scope_add_plugin()         see ScopePlugin.cmake
#
# Safe to load more than once (each example in the repo calls find_package itself).

cmake_minimum_required(VERSION 3.16)

# Find the header next to this package.
set(_scope_plugin_root "${CMAKE_CURRENT_LIST_DIR}")
set(ScopePlugin_INCLUDE_DIR "")
foreach(_scope_plugin_level RANGE 1 4)
    get_filename_component(_scope_plugin_root "${_scope_plugin_root}" DIRECTORY)
    if(EXISTS "${_scope_plugin_root}/include/scope/plugin.h")
        set(ScopePlugin_INCLUDE_DIR "${_scope_plugin_root}/include")
        break()
    endif()
endforeach()
unset(_scope_plugin_root)
unset(_scope_plugin_level)

if(NOT ScopePlugin_INCLUDE_DIR)
    set(ScopePlugin_FOUND FALSE)
    set(ScopePlugin_NOT_FOUND_MESSAGE
        "ScopePlugin: no include/scope/plugin.h above ${CMAKE_CURRENT_LIST_DIR}")
    return()
endif()

# The ABI version, read from the header itself.
file(STRINGS "${ScopePlugin_INCLUDE_DIR}/scope/plugin.h" _scope_plugin_abi
     REGEX "^#define SCOPE_ABI_VERSION_(MAJOR|MINOR) [0-9]+")
string(REGEX REPLACE ".*MAJOR ([0-9]+).*" "\\1" _scope_plugin_major "${_scope_plugin_abi}")
string(REGEX REPLACE ".*MINOR ([0-9]+).*" "\\1" _scope_plugin_minor "${_scope_plugin_abi}")
set(ScopePlugin_ABI_VERSION "${_scope_plugin_major}.${_scope_plugin_minor}")
unset(_scope_plugin_abi)
unset(_scope_plugin_major)
unset(_scope_plugin_minor)

# Imported targets are scoped to the directory that creates them: create it once per scope.
if(NOT TARGET ScopePlugin::headers)
    add_library(ScopePlugin::headers INTERFACE IMPORTED)
    set_target_properties(ScopePlugin::headers PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${ScopePlugin_INCLUDE_DIR}")
endif()

include("${CMAKE_CURRENT_LIST_DIR}/ScopePlugin.cmake")
set(ScopePlugin_FOUND TRUE)

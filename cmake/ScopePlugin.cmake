# ScopePlugin.cmake -- scope_add_plugin(), loaded by ScopePluginConfig.cmake.
#
#   scope_add_plugin(<name> SOURCES <src>... [OUTPUT_DIR <dir>])
#
# Builds <name>.so (no "lib" prefix; .dylib/.dll elsewhere), a MODULE library meant for dlopen:
#   - C sources compile as C99; the include directory of scope/plugin.h is on the path
#     (target ScopePlugin::headers); code is position-independent;
#   - symbols are hidden by default (-fvisibility=hidden), and the linker exports ONLY
#     scope_plugin_entry (a version script generated into the current binary dir on ELF
#     platforms, an exported-symbols list on macOS); undefined symbols fail the link (-z defs)
#     rather than the later dlopen (set SCOPE_PLUGIN_NO_UNDEFINED to OFF before the call to
#     allow symbols that only the loading process provides);
#   - with no build type chosen (single-config generators), -O3 is added so a plugin is never
#     built unoptimized by accident, and -O3 rather than -O2 because it turns on the loop
#     vectoriser (GCC's -O2 vectorises almost nothing): a plain `dst[x] = 255 - src[x]` row
#     loop over restrict rows (the ABI promises no overlap and 64-byte aligned rows) runs
#     16-32 bytes per instruction. Release builds get CMake's own -O3 too. No -march: the
#     library runs on every CPU of its architecture (SSE2 on x86-64); add
#     target_compile_options(<name> PRIVATE -march=native) for a machine of your own;
#   - C and C++ compile with -ffp-contract=off (GCC/Clang): no fused multiply-add, so float
#     formulas give the same bits as the Rust and Go SDKs on every CPU;
#   - OUTPUT_DIR puts the library there; otherwise CMAKE_LIBRARY_OUTPUT_DIRECTORY (if set) or
#     the current binary dir.
# The target is an ordinary CMake target: add sources, link libraries, set options afterwards
# with the usual target_* commands.

include_guard(GLOBAL)

# Adds the plugin library target `name` (see the top of this file).
function(scope_add_plugin name)
    cmake_parse_arguments(PARSE_ARGV 1 _sap "" "OUTPUT_DIR" "SOURCES")
    if(_sap_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "scope_add_plugin(${name}): unknown arguments: ${_sap_UNPARSED_ARGUMENTS}")
    endif()
    if(NOT _sap_SOURCES)
        message(FATAL_ERROR "scope_add_plugin(${name}): SOURCES is required")
    endif()
    if(NOT TARGET ScopePlugin::headers)
        message(FATAL_ERROR "scope_add_plugin(${name}): call find_package(ScopePlugin) first")
    endif()

    add_library(${name} MODULE ${_sap_SOURCES})
    target_link_libraries(${name} PRIVATE ScopePlugin::headers)
    set_target_properties(${name} PROPERTIES
        PREFIX ""
        C_STANDARD 99
        C_STANDARD_REQUIRED ON
        C_EXTENSIONS OFF
        C_VISIBILITY_PRESET hidden
        CXX_VISIBILITY_PRESET hidden
        CUDA_VISIBILITY_PRESET hidden
        VISIBILITY_INLINES_HIDDEN ON
        POSITION_INDEPENDENT_CODE ON)
    if(_sap_OUTPUT_DIR)
        get_filename_component(_sap_out "${_sap_OUTPUT_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
        set_target_properties(${name} PROPERTIES
            LIBRARY_OUTPUT_DIRECTORY "${_sap_out}"
            RUNTIME_OUTPUT_DIRECTORY "${_sap_out}")
        # Multi-config generators would otherwise add a per-configuration subdirectory.
        foreach(_sap_config IN LISTS CMAKE_CONFIGURATION_TYPES)
            string(TOUPPER "${_sap_config}" _sap_config)
            set_target_properties(${name} PROPERTIES
                LIBRARY_OUTPUT_DIRECTORY_${_sap_config} "${_sap_out}"
                RUNTIME_OUTPUT_DIRECTORY_${_sap_config} "${_sap_out}")
        endforeach()
    endif()

    # Optimize, vectoriser included, when no build type was chosen (CMAKE_BUILD_TYPE empty).
    target_compile_options(${name} PRIVATE
        "$<$<AND:$<CONFIG:>,$<COMPILE_LANG_AND_ID:C,GNU,Clang,AppleClang>>:-O3>"
        "$<$<AND:$<CONFIG:>,$<COMPILE_LANG_AND_ID:CXX,GNU,Clang,AppleClang>>:-O3>")

    # Never contract a*b + c into one fused multiply-add. GCC contracts by default wherever the
    # target has FMA (every aarch64, x86-64 with -march=native...), which rounds once instead of
    # twice and can change a result by one unit in the last place -- enough to flip a rounded
    # pixel. Rust and Go plugins round every operation separately, so with this flag a formula
    # gives byte-identical output whatever language a plugin is written in.
    target_compile_options(${name} PRIVATE
        "$<$<COMPILE_LANG_AND_ID:C,GNU,Clang,AppleClang>:-ffp-contract=off>"
        "$<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang,AppleClang>:-ffp-contract=off>")

    # Export scope_plugin_entry and nothing else.
    if(APPLE)
        set(_sap_list "${CMAKE_CURRENT_BINARY_DIR}/${name}.exported_symbols")
        file(GENERATE OUTPUT "${_sap_list}" CONTENT "_scope_plugin_entry\n")
        target_link_options(${name} PRIVATE "LINKER:-exported_symbols_list,${_sap_list}")
        set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS "${_sap_list}")
    elseif(NOT WIN32)
        set(_sap_map "${CMAKE_CURRENT_BINARY_DIR}/${name}.version-script.map")
        file(GENERATE OUTPUT "${_sap_map}" CONTENT
             "/* Generated by scope_add_plugin(): export only the Scope plugin entry. */\n{\n  global:\n    scope_plugin_entry;\n  local:\n    *;\n};\n")
        target_link_options(${name} PRIVATE "LINKER:--version-script=${_sap_map}")
        if(NOT DEFINED SCOPE_PLUGIN_NO_UNDEFINED OR SCOPE_PLUGIN_NO_UNDEFINED)
            target_link_options(${name} PRIVATE "LINKER:-z,defs")
        endif()
        set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS "${_sap_map}")
    endif()
endfunction()

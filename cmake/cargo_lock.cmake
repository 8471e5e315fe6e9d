# SPDX-License-Identifier: Apache-2.0
#
# Keeps the source tree's Cargo.lock as committed under `west build`.
#
# zephyr-lang-rust's rust_cargo_application() (CMakeLists.txt of
# zephyrproject-rtos/zephyr-lang-rust at ab3e546232bfa2f4e16d6c5156b9d9500885b4e8, the
# commit west.yml pins) runs cargo in the application's source directory with
# `--config patch.crates-io.<crate>.path=...` for zephyr, zephyr-build and zephyr-sys.
# rustapp uses none of them, so every such cargo run appends one `[[patch.unused]]` entry
# per crate to Cargo.lock, and the next host build removes them again. This file removes
# exactly those entries once the build's cargo runs are done.
#
# Two uses:
#   include(cmake/cargo_lock.cmake) and, after rust_cargo_application(),
#   smp_rs_keep_cargo_lock(<path of Cargo.lock>)
#       adds the step to the build (see the function);
#   cmake -DCARGO_LOCK=<path of Cargo.lock> -P cmake/cargo_lock.cmake
#       the step itself: drops the three entries, rewrites the file only if it changed.

# The crates rust_cargo_application() patches in (its LIB_RUST_CRATES).
set(SMP_RS_PATCHED_CRATES zephyr zephyr-build zephyr-sys)

if(CMAKE_SCRIPT_MODE_FILE)
  if(NOT CARGO_LOCK)
    message(FATAL_ERROR "cargo_lock.cmake: pass -DCARGO_LOCK=<path of Cargo.lock>")
  endif()
  file(READ "${CARGO_LOCK}" text)
  set(kept "${text}")
  foreach(crate IN LISTS SMP_RS_PATCHED_CRATES)
    # Cargo writes each entry after a blank line: "\n[[patch.unused]]\nname = ..\nversion = ..\n"
    # (a path source has no `source` line).
    string(REGEX REPLACE
      "\n\\[\\[patch\\.unused\\]\\]\nname = \"${crate}\"\nversion = \"[^\"\n]*\"\n"
      "" kept "${kept}")
  endforeach()
  if(NOT "${kept}" STREQUAL "${text}")
    file(WRITE "${CARGO_LOCK}" "${kept}")
    message(STATUS "Cargo.lock: dropped the [[patch.unused]] entries of ${SMP_RS_PATCHED_CRATES}")
  endif()
  return()
endif()

# Adds the step to the build: the target `smp_rs_cargo_lock` (part of ALL) runs it after
# both cargo targets that rust_cargo_application() adds to ALL, `librustapp` (cargo build)
# and `clippy`, so no cargo run of the build follows it; `rustdoc` (cargo doc, built only
# on request) runs it as its POST_BUILD step.
function(smp_rs_keep_cargo_lock lock)
  foreach(target librustapp clippy rustdoc)
    if(NOT TARGET ${target})
      message(FATAL_ERROR "smp_rs_keep_cargo_lock: no target ${target}; call it after rust_cargo_application()")
    endif()
  endforeach()
  set(step ${CMAKE_COMMAND} -DCARGO_LOCK=${lock} -P ${CMAKE_CURRENT_FUNCTION_LIST_FILE})
  add_custom_target(smp_rs_cargo_lock ALL
    COMMAND ${step}
    COMMENT "Keeping Cargo.lock free of the unused zephyr-lang-rust patches"
    VERBATIM
  )
  add_dependencies(smp_rs_cargo_lock librustapp clippy)
  add_custom_command(TARGET rustdoc POST_BUILD COMMAND ${step} VERBATIM)
endfunction()

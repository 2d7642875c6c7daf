# The include rule of server/'s sub-rooms, run as a build step of each room's library
# (server/CMakeLists.txt, httpkv_server_room): a file in server/ROOM/ may include
# "server/X/..." only for a room X in ALLOWED (comma-separated), and no file at server/'s
# top (HttpWorker, HttpServer and what they own). The repository root is on every
# target's include path (httpkv_reactor exports it), so the compiler alone would resolve
# a wrong-way include; this makes the build refuse it, naming the file and the line.
#
#   cmake -DROOM=routes -DALLOWED=base,routes -DDIR=<server dir> -DSTAMP=<file> -P layers.cmake
cmake_minimum_required(VERSION 3.22)  # IN_LIST
string(REPLACE "," ";" allowed "${ALLOWED}")
file(GLOB files "${DIR}/${ROOM}/*.h" "${DIR}/${ROOM}/*.cc")
set(errors "")
foreach(f IN LISTS files)
  file(STRINGS "${f}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"server/")
  foreach(line IN LISTS lines)
    string(REGEX MATCH "\"server/([^\"]*)\"" _ "${line}")
    set(path "${CMAKE_MATCH_1}")
    string(FIND "${path}" "/" slash)
    set(room "")
    if(slash GREATER 0)
      string(SUBSTRING "${path}" 0 ${slash} room)
    endif()
    if(NOT room OR NOT room IN_LIST allowed)
      file(RELATIVE_PATH rel "${DIR}/.." "${f}")
      string(APPEND errors "\n  ${rel}: ${line}")
    endif()
  endforeach()
endforeach()
if(errors)
  message(FATAL_ERROR "server/${ROOM}/ may include only server/{${ALLOWED}}/ "
                      "(layers point one way, see server/CMakeLists.txt):${errors}")
endif()
file(TOUCH "${STAMP}")
